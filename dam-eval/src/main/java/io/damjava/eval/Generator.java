package io.damjava.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.GenerationOptions;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Region;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Generates one description per benchmark annotation, as the official {@code get_model_outputs.py}:
 * the default query, temperature 0.2, top-p unset (HF's 1.0, with HF's top-k 50), 512 new tokens,
 * seed 123; the model bundle's own crop (full image + focal crop) and v1 conversation. The regions
 * of one image are described in one batched call. Outputs go to a JSON object of annotation id to
 * description plus {@code "query"}, the official model-outputs shape, rewritten after every image,
 * so an interrupted run continues where it stopped.
 */
public final class Generator {
  /** The official default query, without the {@code <image>} tag our engine adds. */
  public static final String QUERY = "Describe the masked region in detail.";

  /** The query as the official outputs file records it. */
  public static final String OFFICIAL_QUERY = "<image>\n" + QUERY;

  /** The official generation settings. */
  public static GenerationOptions officialOptions() {
    return GenerationOptions.builder()
        .temperature(0.2)
        .topP(1.0)
        .topK(50)
        .maxNewTokens(512)
        .seed(123)
        .query(QUERY)
        .build();
  }

  private Generator() {}

  /**
   * Describes every annotation the outputs file lacks.
   *
   * @return the outputs, also written to {@code outputs}
   * @throws InvalidInputException for a missing or unreadable image, or a mask that does not fit
   *     its image; descriptions made before it are kept in the file
   */
  public static ObjectNode run(
      DlcBench bench,
      DescribeAnything dam,
      GenerationOptions options,
      Path outputs,
      EvalProgress progress) {
    ObjectNode out = JsonFiles.readObjectOrEmpty(outputs);
    Map<String, List<DlcBench.Annotation>> byImage = new LinkedHashMap<>();
    for (DlcBench.Annotation a : bench.annotations()) {
      byImage.computeIfAbsent(a.imageFile(), k -> new ArrayList<>()).add(a);
    }
    int total = bench.annotations().size();
    int done = 0;
    for (DlcBench.Annotation a : bench.annotations()) {
      if (isDone(out.get(a.id()))) {
        done++;
      }
    }
    progress.update("generating", done, total);
    for (Map.Entry<String, List<DlcBench.Annotation>> e : byImage.entrySet()) {
      List<DlcBench.Annotation> todo =
          e.getValue().stream().filter(a -> !isDone(out.get(a.id()))).toList();
      if (todo.isEmpty()) {
        continue;
      }
      Path file = bench.image(todo.get(0));
      if (!Files.isRegularFile(file)) {
        throw new InvalidInputException(
            "image "
                + file
                + " of annotation "
                + todo.get(0).id()
                + " not found; "
                + done
                + " of "
                + total
                + " descriptions are saved in "
                + outputs);
      }
      DamImage image = DamImage.read(file);
      List<Region> regions = new ArrayList<>();
      for (DlcBench.Annotation a : todo) {
        var mask = a.mask();
        if (mask.width() != image.width() || mask.height() != image.height()) {
          throw new InvalidInputException(
              "annotation "
                  + a.id()
                  + ": mask "
                  + mask.width()
                  + "x"
                  + mask.height()
                  + " does not fit image "
                  + file
                  + " ("
                  + image.width()
                  + "x"
                  + image.height()
                  + ")");
        }
        regions.add(Region.mask(mask));
      }
      List<Caption> captions = dam.describe(image, regions, options);
      for (int i = 0; i < todo.size(); i++) {
        out.put(todo.get(i).id(), captions.get(i).text().strip());
      }
      out.remove("query");
      out.put("query", OFFICIAL_QUERY); // last, as the official script writes it
      JsonFiles.write(outputs, out);
      done += todo.size();
      progress.update("generating", done, total);
    }
    out.remove("query");
    out.put("query", OFFICIAL_QUERY); // last, as the official script writes it
    JsonFiles.write(outputs, out);
    return out;
  }

  private static boolean isDone(JsonNode v) {
    return v != null && v.isTextual() && !v.asText().startsWith("Error:");
  }
}
