package io.damjava.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.DamImage;
import io.damjava.api.GenerationOptions;
import io.damjava.api.ImageLimits;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A chat-completion request reduced to what DAM needs, parsed and validated as the reference server
 * does (dam_server.py): user text parts concatenated in order, assistant messages ignored, RGBA
 * images whose alpha is the mask, {@code Image:}/{@code Video:} prefixes and leading {@code
 * <image>} tags removed.
 *
 * @param model the requested model id
 * @param frames one image, or 8 video frames
 * @param regions one region per frame: the alpha mask, or the request's region extension; for a
 *     tracked video the one region on {@code regionFrame}
 * @param regionFrame the annotated frame of a video tracked from one region ({@code region.frame}),
 *     or -1
 * @param options sampling options (per-request values honoured)
 * @param stream SSE streaming
 * @param includeUsage {@code stream_options.include_usage}: a last chunk with {@code choices: []}
 *     and the usage
 */
record ChatRequest(
    String model,
    List<DamImage> frames,
    List<Region> regions,
    int regionFrame,
    GenerationOptions options,
    boolean stream,
    boolean includeUsage) {

  static final String ANY_MODEL = "describe_anything_model";
  private static final Pattern DATA_URL =
      Pattern.compile("^data:image/(png|jpe?g);base64,(.*)$", Pattern.DOTALL);
  private static final String IMAGE_TAG = "<image>";

  /** OpenAI's range for {@code temperature}. */
  static final double MAX_TEMPERATURE = 2.0;

  static ChatRequest parse(ObjectMapper mapper, byte[] body, ServerConfig config) {
    JsonNode root;
    try {
      root = mapper.readTree(body);
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest("request body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw ApiError.badRequest("cannot read the request body");
    }
    if (root == null || !root.isObject()) {
      throw ApiError.badRequest("request body must be a JSON object");
    }
    checkScalars(root);
    String model = text(root, "model");
    if (!model.equals(ANY_MODEL) && !model.equals(config.modelName())) {
      throw new ApiError(
          404,
          "model_not_found",
          "this server serves the model '"
              + config.modelName()
              + "' (or use '"
              + ANY_MODEL
              + "'), not '"
              + model
              + "'");
    }
    JsonNode messages = root.get("messages");
    if (messages == null || !messages.isArray() || messages.isEmpty()) {
      throw ApiError.badRequest("'messages' must be a non-empty array");
    }
    Optional<Region> extension = RegionExtension.parse(root.get("region"));
    int regionFrame = RegionExtension.frame(root.get("region"));
    boolean tracked = regionFrame >= 0;
    StringBuilder query = new StringBuilder();
    List<BufferedImage> images = new ArrayList<>();
    for (JsonNode m : messages) {
      String role = m.path("role").asText("");
      if (role.equals("assistant") || role.equals("system")) {
        continue;
      }
      if (!role.equals("user")) {
        throw ApiError.badRequest(
            "message role must be user, assistant or system, got '" + role + "'");
      }
      JsonNode content = m.get("content");
      if (content != null && content.isTextual()) {
        query.append(content.asText());
      } else if (content != null && content.isArray()) {
        for (JsonNode part : content) {
          String type = part.path("type").asText("");
          switch (type) {
            case "text" -> query.append(part.path("text").asText(""));
            case "image_url" -> images.add(loadImage(imageUrl(part), config, !tracked));
            default -> throw ApiError.badRequest("unsupported content part type '" + type + "'");
          }
        }
      } else {
        throw ApiError.badRequest("message content must be a string or a list of parts");
      }
    }
    if (images.isEmpty()) {
      throw ApiError.badRequest("no image with a mask found in the messages");
    }
    if (tracked) {
      checkTrackedVideo(images.size(), regionFrame, config);
    } else {
      checkImageCount(images.size(), config);
    }
    String q = cleanQuery(query.toString());
    List<DamImage> frames = new ArrayList<>();
    List<Region> regions = new ArrayList<>();
    for (BufferedImage img : images) {
      if (tracked) {
        frames.add(DamImage.of(img));
        continue;
      }
      frames.add(DamImage.of(img));
      if (extension.isPresent() && images.size() == 1) {
        regions.add(extension.get());
      } else {
        Mask mask = Mask.fromAlpha(img);
        if (mask.isEmpty()) {
          throw ApiError.badRequest("the image's alpha channel is empty: no region to describe");
        }
        regions.add(Region.mask(mask));
      }
    }
    boolean stream = bool(root, "stream");
    JsonNode so = root.get("stream_options");
    if (so != null && !so.isNull() && !so.isObject()) {
      throw ApiError.badRequest("'stream_options' must be an object");
    }
    boolean includeUsage = so != null && so.isObject() && bool(so, "include_usage");
    if (includeUsage && !stream) {
      throw ApiError.badRequest("'stream_options' is only allowed with \"stream\": true");
    }
    if (tracked) {
      regions.add(extension.get());
    }
    return new ChatRequest(
        model, frames, regions, regionFrame, options(root, q, config), stream, includeUsage);
  }

  /** Checks the fields that need no image first, so a bad option costs no decoding. */
  private static void checkScalars(JsonNode root) {
    bool(root, "stream");
    if (root.hasNonNull("n")) {
      long n = integer(root, "n", 1, Integer.MAX_VALUE, 1);
      if (n != 1) {
        throw ApiError.badRequest(
            "'n' must be 1: this server returns one choice per request (got " + n + ")");
      }
    }
  }

  private static boolean bool(JsonNode root, String field) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return false;
    }
    if (!n.isBoolean()) {
      throw ApiError.badRequest("'" + field + "' must be true or false, got " + abbreviate(n));
    }
    return n.booleanValue();
  }

  /** An integer field in {@code [min, max]}; an integral float such as {@code 5.0} counts. */
  private static long integer(JsonNode root, String field, long min, long max, long dflt) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return dflt;
    }
    boolean integral =
        n.isIntegralNumber()
            ? n.canConvertToLong()
            : n.isNumber()
                && n.asDouble() == Math.rint(n.asDouble())
                && Math.abs(n.asDouble()) < 1e18;
    if (!integral || n.asLong() < min || n.asLong() > max) {
      throw ApiError.badRequest(
          "'"
              + field
              + "' must be an integer from "
              + min
              + " to "
              + max
              + ", got "
              + abbreviate(n));
    }
    return n.asLong();
  }

  private static String abbreviate(JsonNode n) {
    String s = n.toString();
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }

  /** Strips prefixes and leading image tags; any other {@code <image>} is an error. */
  static String cleanQuery(String raw) {
    String q = raw.strip();
    if (q.startsWith("Image:")) {
      q = q.substring("Image:".length());
    }
    if (q.startsWith("Video:")) {
      q = q.substring("Video:".length());
    }
    q = q.strip();
    while (q.startsWith(IMAGE_TAG)) {
      q = q.substring(IMAGE_TAG.length());
    }
    if (q.contains(IMAGE_TAG)) {
      throw ApiError.badRequest("<image> may only appear at the beginning of the text");
    }
    return q.strip();
  }

  private static void checkImageCount(int n, ServerConfig config) {
    if (config.jointVariant()) {
      if (n != 1 && n != 8) {
        throw ApiError.badRequest("send 1 image or a video of 8 frames, got " + n + " images");
      }
    } else if (n != 1) {
      throw ApiError.badRequest(
          "this model describes one image with its mask per request, got " + n + " images");
    }
  }

  private static void checkTrackedVideo(int n, int frame, ServerConfig config) {
    if (!config.jointVariant()) {
      throw ApiError.badRequest(
          "region.frame asks for a video tracked from one frame, but this model describes images"
              + " only: serve a DAM-3B-Video bundle");
    }
    if (n < 8) {
      throw ApiError.badRequest(
          "a video tracked from region.frame needs at least 8 frames, got " + n + " images");
    }
    if (frame >= n) {
      throw ApiError.badRequest(
          "region.frame " + frame + " is outside the video (frames 0.." + (n - 1) + ")");
    }
  }

  private static GenerationOptions options(JsonNode root, String query, ServerConfig config) {
    double temperature = number(root, "temperature", config.temperature());
    if (!(temperature >= 0 && temperature <= MAX_TEMPERATURE)) {
      throw ApiError.badRequest(
          "'temperature' must be from 0 to " + MAX_TEMPERATURE + ", got " + temperature);
    }
    double topP = number(root, "top_p", config.topP());
    if (!(topP > 0 && topP <= 1)) {
      throw ApiError.badRequest("'top_p' must be in (0, 1], got " + topP);
    }
    long fallback =
        integer(root, "max_completion_tokens", 1, Integer.MAX_VALUE, config.maxTokens());
    GenerationOptions.Builder b =
        GenerationOptions.builder()
            .temperature(temperature)
            .topP(topP)
            .maxNewTokens((int) integer(root, "max_tokens", 1, Integer.MAX_VALUE, fallback));
    if (root.hasNonNull("top_k")) {
      b.topK((int) integer(root, "top_k", 0, Integer.MAX_VALUE, 0));
    }
    if (root.hasNonNull("seed")) {
      b.seed(integer(root, "seed", Long.MIN_VALUE, Long.MAX_VALUE, 0));
    }
    if (!query.isEmpty()) {
      b.query(query);
    }
    try {
      return b.build();
    } catch (InvalidInputException e) {
      throw ApiError.badRequest(e.getMessage());
    }
  }

  private static double number(JsonNode root, String field, double dflt) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isNumber()) {
      throw ApiError.badRequest("'" + field + "' must be a number");
    }
    return n.asDouble();
  }

  private static String text(JsonNode root, String field) {
    JsonNode n = root.get(field);
    if (n == null || !n.isTextual()) {
      throw ApiError.badRequest("'" + field + "' must be a string");
    }
    return n.asText();
  }

  private static String imageUrl(JsonNode part) {
    JsonNode u = part.path("image_url");
    JsonNode url = u.isTextual() ? u : u.get("url");
    if (url == null || !url.isTextual()) {
      throw ApiError.badRequest("image_url part needs image_url.url");
    }
    return url.asText();
  }

  private static BufferedImage loadImage(String url, ServerConfig config, boolean needAlpha) {
    byte[] bytes;
    if (url.startsWith("http://") || url.startsWith("https://")) {
      if (!config.allowRemoteImages()) {
        throw ApiError.badRequest(
            "image URLs are disabled on this server: send a data:image/png;base64 URL");
      }
      bytes = RemoteImages.fetch(url, config.maxBodyBytes());
    } else {
      Matcher m = DATA_URL.matcher(url);
      if (!m.matches()) {
        throw ApiError.badRequest(
            "image_url must be data:image/(png|jpg|jpeg);base64,... (or http(s) when enabled)");
      }
      try {
        bytes = Base64.getMimeDecoder().decode(m.group(2));
      } catch (IllegalArgumentException e) {
        throw ApiError.badRequest("image data is not valid base64");
      }
    }
    BufferedImage img;
    try {
      img = new ImageLimits(config.maxImagePixels()).decode(bytes, "the image");
    } catch (InvalidInputException e) {
      throw ApiError.badRequest(e.getMessage());
    }
    if (needAlpha && !img.getColorModel().hasAlpha()) {
      throw ApiError.badRequest(
          "the image has no alpha channel: send an RGBA PNG whose alpha marks the region");
    }
    return img;
  }
}
