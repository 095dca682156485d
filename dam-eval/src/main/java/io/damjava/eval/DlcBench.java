package io.damjava.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark as published (huggingface.co/datasets/nvidia/DLC-Bench): {@code annotations.json}
 * (COCO format, an Objects365 subset, compressed RLE masks), {@code class_names.json} (annotation
 * id to class name), {@code qa.json} (annotation id to its questions) and {@code images/}.
 *
 * @param annotations in the order the official generator visits them: by image as listed, then by
 *     annotation as listed
 * @param classNames annotation id to class name
 * @param qa annotation id to its questions, in qa.json's order (the order scores are averaged in)
 */
public record DlcBench(
    Path root,
    List<Annotation> annotations,
    Map<String, String> classNames,
    Map<String, List<Question>> qa) {

  /** One annotated object: its id (the key everywhere), image file and RLE segmentation. */
  public record Annotation(String id, String imageFile, JsonNode segmentation) {
    /** The decoded mask. */
    public Mask mask() {
      try {
        return CocoRle.decode(segmentation);
      } catch (InvalidInputException e) {
        throw new InvalidInputException("annotation " + id + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * Reads a DLC-Bench folder and checks that its parts agree.
   *
   * @throws InvalidInputException naming the file and entry at fault
   */
  public static DlcBench read(Path root) {
    ObjectMapper json = new ObjectMapper();
    JsonNode coco = readJson(json, root.resolve("annotations.json"));
    JsonNode names = readJson(json, root.resolve("class_names.json"));
    JsonNode qaJson = readJson(json, root.resolve("qa.json"));
    Map<String, String> files = new LinkedHashMap<>();
    for (JsonNode img : array(coco, "images", root)) {
      files.put(img.path("id").asText(), img.path("file_name").asText());
    }
    Map<String, List<JsonNode>> byImage = new LinkedHashMap<>();
    files.keySet().forEach(k -> byImage.put(k, new ArrayList<>()));
    for (JsonNode a : array(coco, "annotations", root)) {
      String img = a.path("image_id").asText();
      if (!byImage.containsKey(img)) {
        throw new InvalidInputException(
            root.resolve("annotations.json")
                + ": annotation "
                + a.path("id")
                + " is on image "
                + img
                + ", which \"images\" does not list");
      }
      byImage.get(img).add(a);
    }
    List<Annotation> anns = new ArrayList<>();
    Map<String, Annotation> byId = new LinkedHashMap<>();
    for (Map.Entry<String, List<JsonNode>> e : byImage.entrySet()) {
      for (JsonNode a : e.getValue()) {
        Annotation ann =
            new Annotation(a.path("id").asText(), files.get(e.getKey()), a.get("segmentation"));
        anns.add(ann);
        byId.put(ann.id(), ann);
      }
    }
    Map<String, String> classNames = new LinkedHashMap<>();
    names.fields().forEachRemaining(e -> classNames.put(e.getKey(), e.getValue().asText()));
    Map<String, List<Question>> qa = new LinkedHashMap<>();
    var it = qaJson.fields();
    while (it.hasNext()) {
      var e = it.next();
      String key = e.getKey();
      if (!byId.containsKey(key)) {
        throw new InvalidInputException(
            root.resolve("qa.json")
                + ": questions for annotation "
                + key
                + ", which annotations.json does not have");
      }
      if (!classNames.containsKey(key)) {
        throw new InvalidInputException(
            root.resolve("class_names.json") + ": no class name for annotation " + key);
      }
      if (!e.getValue().isArray()) {
        throw new InvalidInputException(root.resolve("qa.json") + ": " + key + " is no list");
      }
      List<Question> qs = new ArrayList<>();
      for (int i = 0; i < e.getValue().size(); i++) {
        qs.add(Question.of(e.getValue().get(i), "qa.json " + key + " question " + i));
      }
      qa.put(key, List.copyOf(qs));
    }
    return new DlcBench(root, List.copyOf(anns), Map.copyOf(classNames), qa);
  }

  /** The image file of an annotation. */
  public Path image(Annotation a) {
    return root.resolve("images").resolve(a.imageFile());
  }

  /** The questions the judge is asked about an annotation: recognition first, then qa.json's. */
  public List<Question> questions(String key) {
    List<Question> qs = new ArrayList<>();
    qs.add(Question.recognition(JudgePrompt.recognitionQuestion(classNames.get(key))));
    qs.addAll(qa.get(key));
    return qs;
  }

  static JsonNode readJson(ObjectMapper json, Path file) {
    if (!Files.isRegularFile(file)) {
      throw new InvalidInputException(
          file
              + " not found: --data must be the DLC-Bench folder (annotations.json,"
              + " class_names.json, qa.json, images/); see docs/evaluation.md");
    }
    try {
      return json.readTree(file.toFile());
    } catch (IOException e) {
      throw new InvalidInputException(file + " is not valid JSON: " + e.getMessage(), e);
    }
  }

  private static JsonNode array(JsonNode coco, String field, Path root) {
    JsonNode a = coco.get(field);
    if (a == null || !a.isArray()) {
      throw new InvalidInputException(
          root.resolve("annotations.json") + ": no \"" + field + "\" list (COCO format)");
    }
    return a;
  }
}
