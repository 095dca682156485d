package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtSession;
import io.damjava.api.Cancellation;
import io.damjava.api.StopReason;
import io.damjava.onnx.bundle.BundleManifest;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Continuous batching: the sequences of every concurrent call share one decoder run per step. A
 * sequence is prefilled alone into a free row of the in-place cache ({@link KvSlots}) at the next
 * step boundary, then decodes with the others, each row with its own length, sampler and stop, and
 * leaves the batch on its EOS, its token budget or its cancellation. One daemon thread ({@code
 * dam-decode}) runs every decoder graph; callers do their vision and splice work on their own
 * thread, {@link #submit} the spliced prompt and {@link BatchedSequence#await} the tokens, which
 * arrive on the caller's thread, so a slow listener delays only its own call.
 *
 * <p>Each row is computed exactly as it would be alone: GroupQueryAttention's CPU kernel takes row
 * b's total length from its {@code seqlens_k} (the row's attention-mask sum minus 1) and runs the
 * score GEMM and the softmax over those positions only, and the projections are row-wise. So a
 * greedy or seeded fp32 sequence gets the tokens of a call made alone, whoever shares its steps.
 * Contrib-style graphs with a float32 cache only (see {@link #supports}).
 *
 * <pre>
 * join (per sequence): embeds (1,L,H), mask ones (1,L), positions 0..L-1 (1,L),
 *                      past = present = its row (1,kvHeads,C,headDim)      --> logits (1,1,V)
 * step (all rows):     embeds (B,1,H), mask (B,T) row b: len_b+1 ones then zeros, positions (B,1),
 *                      past = present = rows 0..B-1 (B,kvHeads,C,headDim)  --> logits (B,1,V)
 * </pre>
 *
 * A free row below the highest live one rides along with length 1 and its logits ignored.
 */
final class ContinuousBatcher implements AutoCloseable {
  /** What one sequence produced, with its prefill and decode clocks. */
  record Result(Decoder.Output output, long prefillNanos, long decodeNanos) {}

  private final Graphs g;
  private final BundleManifest.Dims dims;
  private final int eos;
  private final int maxBatch;
  private final long budgetBytes;
  private final InPlaceIo io;
  private final Object lock = new Object();
  private final ArrayDeque<BatchedSequence> queue = new ArrayDeque<>(); // guarded by lock
  private boolean closed; // guarded by lock
  private Thread thread; // guarded by lock; started by the first submit

  // Decode thread only from here on.
  private final KvSlots kv;
  private final StepBuffers buffers; // the join's and the step's inputs, the step's logits
  private BatchedSequence[] rows = new BatchedSequence[0]; // live sequence per row, null = free
  private int live;
  private float[] row = new float[0]; // (V) one row's logits

  ContinuousBatcher(Graphs g, BundleManifest.Dims dims, int eos, int maxBatch, long budgetBytes) {
    this.g = g;
    this.dims = dims;
    this.eos = eos;
    this.maxBatch = maxBatch;
    this.budgetBytes = budgetBytes;
    io = new InPlaceIo(g.specs.decoder(), dims.layers());
    int n = dims.layers();
    kv = new KvSlots(g.env, n, dims.kvHeads(), dims.headDim());
    buffers = new StepBuffers(g.env, dims.maxPositions(), dims.vocabSize());
  }

  /**
   * Whether a bundle's decoder can batch this way: GroupQueryAttention (contrib style) updating a
   * float32 cache in place, on the CPU (a CUDA run would copy the host buffers to the device every
   * step; see docs/engine.md).
   */
  static boolean supports(BundleManifest m, boolean cuda) {
    return !cuda
        && m.style() == BundleManifest.Style.CONTRIB
        && m.dims().kvDtype().equals("float32");
  }

  /**
   * Queues a spliced prompt; it joins the batch at the next step boundary.
   *
   * @param prompt (1, L, H) float32, owned by the batcher from here on: read by the decode thread
   *     until the sequence is prefilled, then freed (also when this throws)
   * @throws IllegalStateException after {@link #close()}
   */
  BatchedSequence submit(
      OffHeap prompt, int length, int maxNew, Sampler sampler, Cancellation cancel) {
    int limit = Math.min(maxNew, dims.maxPositions() - length + 1);
    BatchedSequence p = new BatchedSequence(prompt, length, limit, sampler, cancel);
    synchronized (lock) {
      if (closed) {
        prompt.close();
        throw new IllegalStateException("DescribeAnything is closed");
      }
      queue.add(p);
      if (thread == null) {
        thread = new Thread(this::loop, "dam-decode");
        thread.setDaemon(true);
        thread.start();
      }
      lock.notifyAll();
    }
    return p;
  }

  /**
   * How many sequences joined a batch that was already decoding, how many times the cache grew
   * (each growth copies the live rows once), and the most sequences live at once; for tests and the
   * bench.
   */
  int[] stats() {
    synchronized (lock) {
      return new int[] {joinedMidFlight, joinCopies, peakLive};
    }
  }

  private int peakLive; // guarded by lock

  private int joinedMidFlight; // guarded by lock
  private int joinCopies; // decode thread; read under lock after a join (racy reads are only stats)

  private void loop() {
    while (true) {
      List<BatchedSequence> joining = new ArrayList<>();
      synchronized (lock) {
        while (live == 0 && queue.isEmpty() && !closed) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            // only close() stops this thread
          }
        }
        if (closed && live == 0) {
          for (BatchedSequence p : queue) {
            p.fail(new IllegalStateException("DescribeAnything is closed"));
          }
          queue.clear();
          return;
        }
        int reserved = 0; // the largest need among those joining now (not in rows yet)
        while (!queue.isEmpty()
            && live + joining.size() < maxBatch
            && fits(queue.peek(), reserved)) {
          reserved = Math.max(reserved, need(queue.peek()));
          joining.add(queue.poll());
          if (live > 0) {
            joinedMidFlight++;
          }
          live++; // reserved; join() frees it again if the sequence ends at once
          peakLive = Math.max(peakLive, live);
        }
      }
      for (BatchedSequence p : joining) {
        join(p);
      }
      if (live > 0) {
        step();
      }
    }
  }

  /** Positions a sequence's row holds: its prompt, then one per sampled token but the last. */
  private int need(BatchedSequence p) {
    return Decoder.capacity(p.length, p.limit, dims.maxPositions());
  }

  /** Whether p can join now within the memory budget; always when the batch is empty. */
  private boolean fits(BatchedSequence p, int reserved) {
    if (live == 0) {
      return true;
    }
    // what the live rows, those already admitted in this round and p need, not what the buffers
    // hold now: after one long caption the buffers keep its capacity, and counting that would
    // admit fewer short sequences ever after
    int cap = Math.max(Math.max(liveNeed(), reserved), need(p));
    int rowsNeeded = Math.max(highestLive() + 1, live + 1);
    return kv.rowBytes(cap) * rowsNeeded <= budgetBytes;
  }

  /** The largest capacity a live row needs (0 when none is live). */
  private int liveNeed() {
    int cap = 0;
    for (BatchedSequence r : rows) {
      if (r != null) {
        cap = Math.max(cap, need(r));
      }
    }
    return cap;
  }

  private int highestLive() {
    for (int r = rows.length - 1; r >= 0; r--) {
      if (rows[r] != null) {
        return r;
      }
    }
    return -1;
  }

  private int freeRow() {
    for (int r = 0; r < rows.length; r++) {
      if (rows[r] == null) {
        return r;
      }
    }
    return rows.length;
  }

  /** Prefills p alone into a free row and samples its first token. */
  private void join(BatchedSequence p) {
    int r = freeRow();
    try {
      grow(r + 1, need(p));
      p.started = System.nanoTime();
      OnnxTensor[] view = kv.row(r);
      try (OnnxTensor e = Tensors.of(g.env, p.prompt.floats(), 1, p.length, dims.hidden());
          OnnxTensor m = Tensors.of(g.env, buffers.ones(p.length), 1, p.length);
          OnnxTensor pos = Tensors.of(g.env, buffers.iota(p.length), 1, p.length);
          OrtSession.Result res =
              Graphs.run(
                  g.prefill,
                  "decoder",
                  io.inputs(e, m, pos, view),
                  io.logitsOnly,
                  io.pinned(view))) {
        FloatBuffer l = Graphs.output(res, io.logits, "decoder").getFloatBuffer();
        if (row.length != l.remaining()) {
          row = new float[l.remaining()];
        }
        l.get(row);
      } finally {
        KvSlots.close(view);
      }
    } catch (RuntimeException e) {
      live--;
      p.fail(e);
      return;
    } finally {
      p.prompt.close(); // its tensor is closed: prefill was its only reader
    }
    p.prefillNanos = System.nanoTime() - p.started;
    p.started = System.nanoTime();
    p.past = p.length;
    rows[r] = p;
    if (p.limit <= 0) {
      finish(r, StopReason.MAX_TOKENS);
      return;
    }
    sample(r, row);
  }

  /**
   * Makes rows 0..n-1 exist with at least {@code cap} positions, keeping live rows' KV. Rows grow
   * by doubling (up to the batch limit, within the budget) so that joins rarely copy.
   */
  private void grow(int n, int cap) {
    if (n <= kv.rows() && cap <= kv.capacity()) {
      return;
    }
    // new buffers: as long as the live rows and the newcomer need (possibly shorter than the old
    // ones), rows doubled within the budget
    int newCap = Math.max(cap, liveNeed());
    int least = Math.max(n, highestLive() + 1);
    int newRows = Math.max(least, Math.min(maxBatch, 2 * kv.rows()));
    while (newRows > least && kv.rowBytes(newCap) * newRows > budgetBytes) {
      newRows--;
    }
    int[] lengths = new int[Math.min(kv.rows(), newRows)];
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = rows[i] == null ? 0 : rows[i].past;
    }
    kv.resize(newRows, newCap, lengths);
    joinCopies++;
    rows = Arrays.copyOf(rows, kv.rows());
  }

  /** One decoder run for rows 0..B-1, then one sample per live row. */
  private void step() {
    int batch = 0;
    int total = 1;
    for (int r = 0; r < rows.length; r++) {
      if (rows[r] != null) {
        batch = r + 1;
        total = Math.max(total, rows[r].past + 1);
      }
    }
    buffers.fill(rows, batch, total, eos);
    LongBuffer ids = buffers.ids();
    LongBuffer positions = buffers.positions();
    LongBuffer mask = buffers.mask();
    OnnxTensor[] kvs = kv.batch(batch);
    BundleManifest.GraphSpec es = g.specs.embedTokens();
    try (OnnxTensor it = Tensors.of(g.env, ids.slice(0, batch), batch, 1);
        OrtSession.Result e =
            Graphs.run(g.embedTokens, "embedTokens", Map.of(es.input("ids"), it));
        OnnxTensor m = Tensors.of(g.env, mask.slice(0, batch * total), batch, total);
        OnnxTensor pos = Tensors.of(g.env, positions.slice(0, batch), batch, 1)) {
      Map<String, OnnxTensor> out = io.pinned(kvs);
      out.put(io.logits, buffers.logitsTensor(batch, rows.length));
      Map<String, OnnxTensorLike> in =
          io.inputs(Graphs.output(e, es.output("embeds"), "embedTokens"), m, pos, kvs);
      Graphs.run(g.decoder, "decoder", in, Set.of(), out).close();
    } catch (RuntimeException ex) {
      for (int r = 0; r < batch; r++) {
        if (rows[r] != null) {
          BatchedSequence p = rows[r];
          rows[r] = null;
          live--;
          p.fail(ex);
        }
      }
      return;
    }
    int vocab = dims.vocabSize();
    if (row.length != vocab) {
      row = new float[vocab];
    }
    for (int r = 0; r < batch; r++) {
      if (rows[r] != null) {
        rows[r].past++;
        buffers.logits().get(r * vocab, row);
        sample(r, row);
      }
    }
  }

  /** Row r's sample ({@link BatchedSequence#sample}); the row leaves the batch when it stops. */
  private void sample(int r, float[] l) {
    StopReason stop = rows[r].sample(l, eos);
    if (stop != null) {
      finish(r, stop);
    }
  }

  private void finish(int r, StopReason stop) {
    BatchedSequence p = rows[r];
    rows[r] = null;
    live--;
    p.finish(stop);
  }

  /**
   * Stops the decode thread once no sequence is live (the engine's close waits for running calls
   * first) and frees the cache tensors. Queued sequences fail with IllegalStateException.
   */
  @Override
  public void close() {
    Thread t;
    synchronized (lock) {
      closed = true;
      t = thread;
      lock.notifyAll();
    }
    if (t != null) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (t == null || !t.isAlive()) {
      buffers.close(); // the logits tensor first, then the buffers under it
      kv.close();
    }
  }
}
