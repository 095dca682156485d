package io.damjava.bench.fuzz;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Real, valid inputs of every kind the parsers accept, written here so nothing large is kept. */
final class Seeds {
  private Seeds() {}

  /** PNG (RGB, RGBA, grey 8/16-bit, palette, 1-bit), JPEG kinds, GIF, BMP and a WebP header. */
  static List<byte[]> images() {
    List<byte[]> out = new ArrayList<>();
    out.add(encode(pattern(BufferedImage.TYPE_INT_RGB, 16, 12), "png"));
    out.add(encode(pattern(BufferedImage.TYPE_INT_ARGB, 12, 16), "png"));
    out.add(encode(pattern(BufferedImage.TYPE_BYTE_GRAY, 9, 7), "png"));
    out.add(encode(pattern(BufferedImage.TYPE_USHORT_GRAY, 8, 8), "png"));
    out.add(encode(pattern(BufferedImage.TYPE_BYTE_INDEXED, 10, 10), "png"));
    out.add(encode(pattern(BufferedImage.TYPE_BYTE_BINARY, 13, 5), "png"));
    byte[] jpeg = encode(pattern(BufferedImage.TYPE_INT_RGB, 24, 16), "jpg");
    out.add(jpeg);
    out.add(encode(pattern(BufferedImage.TYPE_BYTE_GRAY, 16, 16), "jpg"));
    out.add(progressiveJpeg(pattern(BufferedImage.TYPE_INT_RGB, 32, 24)));
    out.add(withExifOrientation(jpeg, 6));
    out.add(withExifOrientation(jpeg, 8));
    out.add(cmykJpeg(16, 16));
    out.add(encode(pattern(BufferedImage.TYPE_BYTE_INDEXED, 11, 9), "gif"));
    out.add(encode(pattern(BufferedImage.TYPE_INT_RGB, 7, 5), "bmp"));
    out.add(webpHeader());
    return out;
  }

  /** Mask PNGs: all zero, all one, one pixel, odd sizes, 16-bit, palette, RGBA. */
  static List<byte[]> masks() {
    List<byte[]> out = new ArrayList<>();
    BufferedImage zero = new BufferedImage(16, 12, BufferedImage.TYPE_BYTE_GRAY);
    out.add(encode(zero, "png"));
    BufferedImage one = new BufferedImage(16, 12, BufferedImage.TYPE_BYTE_GRAY);
    fill(one.getRaster(), 255);
    out.add(encode(one, "png"));
    BufferedImage pixel = new BufferedImage(16, 12, BufferedImage.TYPE_BYTE_GRAY);
    pixel.getRaster().setSample(5, 7, 0, 1);
    out.add(encode(pixel, "png"));
    BufferedImage wrong = new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_BINARY);
    wrong.getRaster().setSample(0, 0, 0, 1);
    out.add(encode(wrong, "png"));
    out.add(encode(pattern(BufferedImage.TYPE_USHORT_GRAY, 16, 12), "png"));
    out.add(encode(pattern(BufferedImage.TYPE_BYTE_INDEXED, 16, 12), "png"));
    out.add(encode(pattern(BufferedImage.TYPE_INT_ARGB, 16, 12), "png"));
    return out;
  }

  /** Small valid safetensors files: F32 and F16 tensors, metadata, an empty file of tensors. */
  static List<byte[]> safetensors() {
    List<byte[]> out = new ArrayList<>();
    out.add(
        safetensors(
            "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]}}",
            32));
    out.add(
        safetensors(
            "{\"x\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
                + "\"y\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]}}",
            12));
    out.add(safetensors("{}", 0));
    return out;
  }

  private static byte[] safetensors(String header, int dataBytes) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    for (int i = 0; i < dataBytes; i++) {
      b.put((byte) (i * 37));
    }
    return b.array();
  }

  /** A tokenizer.json in the Hugging Face BPE shape with a byte-fallback Llama-like setup. */
  static byte[] tokenizerJson() {
    return ("{\"version\":\"1.0\",\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true},"
            + "{\"id\":1,\"content\":\"<s>\",\"special\":true},{\"id\":2,\"content\":\"</s>\","
            + "\"special\":true}],\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":["
            + "{\"type\":\"Prepend\",\"prepend\":\"\\u2581\"},{\"type\":\"Replace\",\"pattern\":"
            + "{\"String\":\" \"},\"content\":\"\\u2581\"}]},\"pre_tokenizer\":null,"
            + "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":"
            + "{\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
            + "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
            + "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":"
            + "{\"String\":\"\\u2581\"},\"content\":\" \"},{\"type\":\"ByteFallback\"},"
            + "{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]},"
            + "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\","
            + "\"fuse_unk\":true,\"byte_fallback\":true,\"vocab\":{\"<unk>\":0,\"<s>\":1,"
            + "\"</s>\":2,\"<0x41>\":3,\"\\u2581\":4,\"a\":5,\"b\":6,\"\\u2581a\":7,\"ab\":8},"
            + "\"merges\":[\"\\u2581 a\",\"a b\"]}}")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** Chat request bodies, reference and OpenAI shapes, with a 6x4 RGBA image (alpha = mask). */
  static List<byte[]> httpBodies() {
    BufferedImage img = new BufferedImage(6, 4, BufferedImage.TYPE_INT_ARGB);
    for (int i = 0; i < 24; i++) {
      img.setRGB(i % 6, i / 6, (i % 3 == 0 ? 0xFF000000 : 0) | 0x336699);
    }
    String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(encode(img, "png"));
    String base =
        "{\"model\":\"describe_anything_model\",\"messages\":[{\"role\":\"system\",\"content\":"
            + "\"be brief\"},{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":"
            + "{\"url\":\""
            + url
            + "\"}},{\"type\":\"text\",\"text\":\"<image>\\nDescribe the masked region.\"}]}],"
            + "\"max_tokens\":8,\"temperature\":0.2,\"top_p\":0.5";
    List<byte[]> out = new ArrayList<>();
    out.add((base + ",\"stream\":false}").getBytes(StandardCharsets.UTF_8));
    out.add((base + ",\"stream\":true}").getBytes(StandardCharsets.UTF_8));
    out.add(
        (base + ",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"n\":1,\"seed\":3}")
            .getBytes(StandardCharsets.UTF_8));
    out.add((base + ",\"top_k\":5,\"max_completion_tokens\":4}").getBytes(StandardCharsets.UTF_8));
    return out;
  }

  static BufferedImage pattern(int type, int w, int h) {
    BufferedImage img = new BufferedImage(w, h, type);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int v = (x * 31 + y * 17) & 0xFF;
        img.setRGB(
            x, y, ((x + y) % 2 == 0 ? 0xFF000000 : 0x40000000) | v << 16 | (255 - v) << 8 | v);
      }
    }
    return img;
  }

  private static void fill(WritableRaster r, int v) {
    for (int y = 0; y < r.getHeight(); y++) {
      for (int x = 0; x < r.getWidth(); x++) {
        r.setSample(x, y, 0, v);
      }
    }
  }

  static byte[] encode(BufferedImage img, String format) {
    try {
      ByteArrayOutputStream o = new ByteArrayOutputStream();
      if (!ImageIO.write(img, format, o)) {
        throw new IllegalStateException("no ImageIO writer for " + format);
      }
      return o.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] progressiveJpeg(BufferedImage img) {
    ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(o)) {
      w.setOutput(out);
      ImageWriteParam p = w.getDefaultWriteParam();
      p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
      w.write(null, new IIOImage(img, null, null), p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      w.dispose();
    }
    return o.toByteArray();
  }

  /** A 4-channel (CMYK-like) JPEG written from a raster, which ImageIO cannot decode as RGB. */
  private static byte[] cmykJpeg(int w, int h) {
    WritableRaster r = Raster.createInterleavedRaster(0, w, h, 4, null);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int b = 0; b < 4; b++) {
          r.setSample(x, y, b, (x * 13 + y * 7 + b * 50) & 0xFF);
        }
      }
    }
    ImageWriter wr = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(o)) {
      wr.setOutput(out);
      wr.write(null, new IIOImage(r, null, null), wr.getDefaultWriteParam());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      wr.dispose();
    }
    return o.toByteArray();
  }

  /** Inserts an APP1 Exif segment (big-endian TIFF, IFD0 with one Orientation entry). */
  static byte[] withExifOrientation(byte[] jpeg, int orientation) {
    ByteBuffer tiff = ByteBuffer.allocate(26);
    tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8);
    tiff.putShort((short) 1).putShort((short) 0x0112).putShort((short) 3).putInt(1);
    tiff.putShort((short) orientation).putShort((short) 0).putInt(0);
    byte[] exif = new byte[6 + tiff.capacity()];
    System.arraycopy("Exif\0\0".getBytes(StandardCharsets.ISO_8859_1), 0, exif, 0, 6);
    System.arraycopy(tiff.array(), 0, exif, 6, tiff.capacity());
    ByteBuffer out = ByteBuffer.allocate(jpeg.length + 4 + exif.length);
    out.put(jpeg, 0, 2).put((byte) 0xFF).put((byte) 0xE1).putShort((short) (2 + exif.length));
    out.put(exif).put(jpeg, 2, jpeg.length - 2);
    return out.array();
  }

  /** A RIFF/WEBP header: no ImageIO reader, so it must be refused with a typed error. */
  private static byte[] webpHeader() {
    ByteBuffer b = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(22);
    b.put("WEBPVP8 ".getBytes(StandardCharsets.US_ASCII)).putInt(10);
    b.put(new byte[] {0x30, 0x01, 0x00, (byte) 0x9d, 0x01, 0x2a, 0x10, 0x00, 0x10, 0x00});
    return b.array();
  }
}
