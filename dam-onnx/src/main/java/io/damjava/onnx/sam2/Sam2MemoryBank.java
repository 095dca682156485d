package io.damjava.onnx.sam2;

import io.damjava.api.InvalidInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The memory bank of one tracked object, bounded whatever the video length.
 *
 * <p>Selection for frame f (the reference's {@code VideoPredictor.select_memory}): every
 * conditioning frame's spatial memory (temporal offset 0, in the order they were added), then the
 * tracked frames at offsets {@code numMaskmem - 1 .. 1} behind f in the tracking direction;
 * pointers of the conditioning frames not ahead of f (signed distance), then the tracked frames at
 * distance {@code 1 .. maxPointers - 1}, stopping at the first index outside the video.
 *
 * <p>Bound: a tracked frame is kept only while some later selection can still use it. That is when
 * it lies within {@code maxPointers - 1} of the last tracked frame or of a conditioning frame. A
 * backward pass from a conditioning frame attends to forward-pass frames just past it, so those
 * stay too. Its spatial features are dropped earlier, beyond {@code numMaskmem - 1}. So at most
 * {@code 2 (maxPointers - 1)} pointer entries per conditioning frame and {@code 2 (numMaskmem - 1)}
 * spatial memories per conditioning frame are held, plus the conditioning frames themselves.
 */
public final class Sam2MemoryBank {
  /** A spatial memory the frame attends to: temporal offset (0 = conditioning) and source frame. */
  public record MemoryRef(int temporalOffset, int frame) {}

  /** An object pointer the frame attends to: signed temporal distance and source frame. */
  public record PointerRef(int temporalDistance, int frame) {}

  /**
   * What one frame attends to.
   *
   * @param memories spatial memories in concatenation order
   * @param pointers object pointers in concatenation order
   * @param maxPointers {@code min(numFrames, max_object_pointers_in_encoder)}, the normaliser of
   *     the pointers' temporal encoding
   */
  public record Selection(List<MemoryRef> memories, List<PointerRef> pointers, int maxPointers) {}

  /**
   * One frame's stored outputs.
   *
   * @param maskmem memory features [HW * memDim], bf16-rounded; null once out of the spatial window
   * @param maskmemPos memory position encoding [HW * memDim]; null with maskmem
   * @param pointer object pointer [hiddenDim]
   * @param objectScore object-score logit (<= 0: predicted occluded)
   */
  public record Entry(float[] maskmem, float[] maskmemPos, float[] pointer, float objectScore) {
    Entry withoutSpatial() {
      return new Entry(null, null, pointer, objectScore);
    }
  }

  private final Sam2TrackingSettings settings;
  private final int numFrames;
  private final int maxPointers;
  private final Map<Integer, Entry> conditioning = new LinkedHashMap<>();
  private final TreeMap<Integer, Entry> tracked = new TreeMap<>();

  /** An empty bank for a video of {@code numFrames} frames. */
  public Sam2MemoryBank(Sam2TrackingSettings settings, int numFrames) {
    if (numFrames < 1) {
      throw new InvalidInputException("a video needs at least one frame, got " + numFrames);
    }
    this.settings = settings;
    this.numFrames = numFrames;
    this.maxPointers = settings.pointersFor(numFrames);
  }

  /**
   * Stores the output of a prompted (conditioning) frame; replaces an earlier one on that frame.
   */
  public void addConditioning(int frame, Entry entry) {
    checkFrame(frame);
    tracked.remove(frame);
    conditioning.put(frame, entry);
  }

  /** Stores the output of a tracked frame, then drops what no later selection can reach. */
  public void addTracked(int frame, Entry entry) {
    checkFrame(frame);
    if (conditioning.containsKey(frame)) {
      throw new IllegalStateException("frame " + frame + " is a conditioning frame");
    }
    tracked.put(frame, entry);
    evict(frame);
  }

  /** True if frame {@code f} holds a conditioning output. */
  public boolean isConditioning(int f) {
    return conditioning.containsKey(f);
  }

  /** The stored entry of frame {@code f}, or null. */
  public Entry entry(int f) {
    Entry e = conditioning.get(f);
    return e != null ? e : tracked.get(f);
  }

  /** Number of frames held (conditioning and tracked). */
  public int size() {
    return conditioning.size() + tracked.size();
  }

  /** Number of frames whose spatial memory is held. */
  public int spatialSize() {
    int n = conditioning.size();
    for (Entry e : tracked.values()) {
      n += e.maskmem() != null ? 1 : 0;
    }
    return n;
  }

  /** What frame {@code f} attends to when tracked in the given direction. */
  public Selection select(int f, boolean reverse) {
    checkFrame(f);
    if (conditioning.isEmpty()) {
      throw new IllegalStateException("no conditioning frame: add a prompt before propagating");
    }
    int sign = reverse ? -1 : 1;
    List<MemoryRef> mems = new ArrayList<>();
    for (int c : conditioning.keySet()) {
      mems.add(new MemoryRef(0, c));
    }
    for (int off = settings.numMaskmem() - 1; off >= 1; off--) {
      int p = reverse ? f + off : f - off;
      Entry e = tracked.get(p);
      if (e != null) {
        if (e.maskmem() == null) {
          throw new IllegalStateException(
              "spatial memory of frame " + p + " was evicted too early");
        }
        mems.add(new MemoryRef(off, p));
      }
    }
    List<PointerRef> ptrs = new ArrayList<>();
    for (int c : conditioning.keySet()) {
      if (reverse ? c >= f : c <= f) {
        ptrs.add(new PointerRef((f - c) * sign, c));
      }
    }
    for (int d = 1; d < maxPointers; d++) {
      int r = reverse ? f + d : f - d;
      if (r < 0 || r >= numFrames) {
        break;
      }
      if (tracked.containsKey(r)) {
        ptrs.add(new PointerRef(d, r));
      }
    }
    return new Selection(List.copyOf(mems), List.copyOf(ptrs), maxPointers);
  }

  private void evict(int frontier) {
    int ptrWindow = maxPointers - 1;
    int memWindow = settings.numMaskmem() - 1;
    var it = tracked.entrySet().iterator();
    while (it.hasNext()) {
      var kv = it.next();
      int d = distanceToAnchor(kv.getKey(), frontier);
      if (d > ptrWindow) {
        it.remove();
      } else if (d > memWindow && kv.getValue().maskmem() != null) {
        kv.setValue(kv.getValue().withoutSpatial());
      }
    }
  }

  private int distanceToAnchor(int t, int frontier) {
    int d = Math.abs(t - frontier);
    for (int c : conditioning.keySet()) {
      d = Math.min(d, Math.abs(t - c));
    }
    return d;
  }

  private void checkFrame(int f) {
    if (f < 0 || f >= numFrames) {
      throw new InvalidInputException(
          "frame " + f + " is outside the video (frames 0.." + (numFrames - 1) + ")");
    }
  }
}
