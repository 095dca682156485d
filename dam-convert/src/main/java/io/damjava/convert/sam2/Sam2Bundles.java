package io.damjava.convert.sam2;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.convert.CheckpointException;
import io.damjava.convert.HubDownloader;
import io.damjava.convert.Progress;
import io.damjava.convert.TensorSet;
import io.damjava.onnx.bundle.FileDigest;
import io.damjava.onnx.sam2.Sam2Bundle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes a SAM 2.1 video bundle ({@link Sam2Bundle}) from a Hugging Face {@code sam2_video}
 * checkpoint folder (config.json + model.safetensors, e.g. facebook/sam2.1-hiera-tiny): the four
 * graphs with float32 weights, and {@code sam2-bundle.json} with the sizes, the tracking settings,
 * the host tensors and a SHA-256 per file.
 *
 * <pre>{@code
 * Sam2Bundles.write(Path.of("sam2.1-hiera-tiny"), Path.of("sam2-bundle"));
 * Sam2VideoPredictor p = Sam2VideoPredictor.open(Sam2Bundle.read(Path.of("sam2-bundle")), env,
 *     options, frames, pixels);
 * }</pre>
 */
public final class Sam2Bundles {
  private Sam2Bundles() {}

  /** Graph files, in the order they are written. */
  public static final List<String> GRAPHS =
      List.of(
          "image_encoder.onnx",
          "mask_decoder.onnx",
          "memory_encoder.onnx",
          "memory_attention.onnx");

  /** Files of a transformers-layout SAM 2.1 repository that are downloaded. */
  static final List<String> HUB_FILES =
      List.of("config.json", "model.safetensors", "processor_config.json");

  /**
   * Downloads a transformers-layout SAM 2.1 checkpoint ({@code facebook/sam2.1-hiera-tiny}, {@code
   * -small}, {@code -base-plus}, {@code -large}) with {@link HubDownloader} (resumed and verified
   * as the DAM download is), then converts it into {@code out}.
   *
   * @param repoSpec {@code owner/name[@revision]}
   * @throws CheckpointException if the repository has no {@code config.json} and {@code
   *     model.safetensors}, or they are not a {@code sam2_video} checkpoint
   */
  public static Path fetch(
      HubDownloader.Settings settings, String repoSpec, Path out, Progress progress) {
    HubDownloader.Repo repo;
    try {
      repo = HubDownloader.Repo.parse(repoSpec);
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(e.getMessage(), e);
    }
    Path src =
        new HubDownloader(settings, progress)
            .download(repo, HUB_FILES, List.of("config.json", "model.safetensors"));
    return write(src, out);
  }

  /** Converts {@code checkpoint} into an empty or new folder {@code out}; returns {@code out}. */
  public static Path write(Path checkpoint, Path out) {
    try {
      Files.createDirectories(out);
      try (Stream<Path> s = Files.list(out)) {
        if (s.findAny().isPresent()) {
          throw new CheckpointException(out + ": not empty; choose a new output folder");
        }
      }
      Sam2Config cfg = Sam2Config.read(checkpoint);
      ObjectMapper om = new ObjectMapper();
      ObjectNode m = om.createObjectNode();
      m.put("format", Sam2Bundle.FORMAT);
      m.put("version", 1);
      m.put("source", checkpoint.toAbsolutePath().normalize().getFileName().toString());
      try (TensorSet t = TensorSet.open(checkpoint)) {
        ImageEncoderGraph.write(cfg, t, out.resolve(GRAPHS.get(0)));
        MaskDecoderGraph.write(cfg, t, out.resolve(GRAPHS.get(1)));
        MemoryEncoderGraph.write(cfg, t, out.resolve(GRAPHS.get(2)));
        MemoryAttentionGraph.write(cfg, t, out.resolve(GRAPHS.get(3)));
        int memDim = cfg.memDim();
        int slots = cfg.intField("num_maskmem", 7);
        m.put("image_size", cfg.imageSize());
        m.put("feat_side", cfg.ropeW());
        m.put("hidden", cfg.hidden());
        m.put("mem_dim", memDim);
        m.put("num_maskmem", slots);
        m.put("max_object_pointers", cfg.intField("max_object_pointers_in_encoder", 16));
        var dc = cfg.json().path("mask_decoder_config");
        m.put("stability_delta", dc.path("dynamic_multimask_stability_delta").asDouble(0.05));
        m.put("stability_threshold", dc.path("dynamic_multimask_stability_thresh").asDouble(0.98));
        ArrayNode nop = m.putArray("no_object_pointer");
        for (float v : t.get("no_object_pointer", 1, cfg.hidden())) {
          nop.add((double) v);
        }
        ArrayNode md = m.putArray("mask_downsample");
        for (float v : t.get("mask_downsample.weight", 1, 1, 4, 4)) {
          md.add((double) v);
        }
        md.add((double) t.get("mask_downsample.bias", 1)[0]);
        float[] tpe = t.get("memory_temporal_positional_encoding", slots, 1, 1, memDim);
        ArrayNode rows = m.putArray("memory_temporal_positional_encoding");
        for (int i = 0; i < slots; i++) {
          ArrayNode r = rows.addArray();
          for (int c = 0; c < memDim; c++) {
            r.add((double) tpe[i * memDim + c]);
          }
        }
      }
      ObjectNode files = m.putObject("files");
      try (Stream<Path> s = Files.list(out)) {
        for (Path f : s.sorted().toList()) {
          files.put(f.getFileName().toString(), FileDigest.sha256(f));
        }
      }
      om.writerWithDefaultPrettyPrinter().writeValue(out.resolve(Sam2Bundle.MANIFEST).toFile(), m);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(out + ": cannot write the SAM 2 bundle", e);
    }
  }
}
