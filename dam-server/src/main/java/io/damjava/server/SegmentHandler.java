package io.damjava.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

/**
 * {@code POST /v1/segment}: turns a box, clicks or a scribble into the SAM mask that describe would
 * use, so that a client (the page at {@code /}) can show it before describing. Request {@code
 * {"image": "data:image/png;base64,...", "region": {"box": [x0, y0, x1, y1]} | {"points": [[x, y],
 * [x, y, 0]]} | {"scribble": "data:image/png;base64,..."}}}; answer {@code {"width", "height",
 * "area", "box": [x0, y0, x1, y1], "mask": "data:image/png;base64,..."}} with a grey PNG, 255 on
 * the mask and 0 elsewhere. One segmentation runs at a time; others wait up to a few seconds, then
 * get 503.
 */
final class SegmentHandler {
  private static final Pattern DATA_URL =
      Pattern.compile("data:image/(?:png|jpe?g);base64,(.*)", Pattern.DOTALL);
  private static final long WAIT_SECONDS = 10;

  private final DescribeAnything dam;
  private final ServerConfig config;
  private final ObjectMapper mapper;
  private final Semaphore slot = new Semaphore(1, true);

  SegmentHandler(DescribeAnything dam, ServerConfig config, ObjectMapper mapper) {
    this.dam = dam;
    this.config = config;
    this.mapper = mapper;
  }

  void handle(HttpExchange ex, byte[] body) throws IOException {
    JsonNode root;
    try {
      root = mapper.readTree(body);
    } catch (IOException e) {
      throw ApiError.badRequest("request body is not valid JSON");
    }
    if (root == null || !root.isObject()) {
      throw ApiError.badRequest("request body must be a JSON object");
    }
    BufferedImage img = image(root.path("image").asText(""), "image");
    DamImage image = DamImage.of(img);
    Region region = region(root.get("region"), img.getWidth(), img.getHeight());
    Mask mask;
    try {
      if (!slot.tryAcquire(WAIT_SECONDS, TimeUnit.SECONDS)) {
        throw new ApiError(503, "server_busy", "the segmenter is busy; retry shortly");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError(503, "server_busy", "interrupted while waiting for the segmenter");
    }
    try {
      mask = dam.segment(image, List.of(region)).get(0);
    } finally {
      slot.release();
    }
    ObjectNode out = mapper.createObjectNode();
    out.put("width", mask.width()).put("height", mask.height()).put("area", mask.area());
    if (!mask.isEmpty()) {
      Mask.Box b = mask.boundingBox();
      out.putArray("box").add(b.x0()).add(b.y0()).add(b.x1()).add(b.y1());
    }
    out.put("mask", "data:image/png;base64," + Base64.getEncoder().encodeToString(png(mask)));
    DamServer.sendJson(ex, 200, out);
  }

  private Region region(JsonNode node, int width, int height) {
    if (node == null || !node.isObject()) {
      throw ApiError.badRequest("region must be an object with 'box', 'points' or 'scribble'");
    }
    Region r;
    if (node.has("scribble")) {
      BufferedImage s = image(node.get("scribble").asText(""), "region.scribble");
      try {
        r = Region.scribble(s.getColorModel().hasAlpha() ? Mask.fromAlpha(s) : Mask.of(s));
      } catch (InvalidInputException e) {
        throw ApiError.badRequest(e.getMessage());
      }
    } else {
      r = RegionExtension.parse(node).orElseThrow();
    }
    try {
      r.validateFor(width, height);
    } catch (InvalidInputException e) {
      throw ApiError.badRequest(e.getMessage());
    }
    return r;
  }

  private BufferedImage image(String url, String field) {
    Matcher m = DATA_URL.matcher(url);
    if (!m.matches()) {
      throw ApiError.badRequest(field + " must be a data:image/(png|jpg|jpeg);base64,... URL");
    }
    BufferedImage img;
    try {
      img = ImageIO.read(new ByteArrayInputStream(Base64.getMimeDecoder().decode(m.group(1))));
    } catch (IOException | RuntimeException e) {
      img = null;
    }
    if (img == null) {
      throw ApiError.badRequest(field + " is not a readable PNG or JPEG");
    }
    if ((long) img.getWidth() * img.getHeight() > config.maxImagePixels()) {
      throw ApiError.badRequest(
          field + " is above the server's limit of " + config.maxImagePixels() + " pixels");
    }
    return img;
  }

  private static byte[] png(Mask mask) throws IOException {
    int w = mask.width();
    int h = mask.height();
    BufferedImage g = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    byte[] v = mask.toBytes();
    byte[] px = new byte[w * h];
    for (int i = 0; i < px.length; i++) {
      px[i] = v[i] != 0 ? (byte) 255 : 0;
    }
    g.getRaster().setDataElements(0, 0, w, h, px);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(g, "png", out);
    return out.toByteArray();
  }
}
