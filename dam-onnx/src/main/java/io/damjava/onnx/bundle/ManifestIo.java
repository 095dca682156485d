package io.damjava.onnx.bundle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.InjectableValues;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.damjava.api.InvalidBundleException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads and writes manifests ({@link BundleManifest}, {@link SamManifest}) strictly: unknown,
 * missing and null fields are errors naming their JSON path.
 */
public final class ManifestIo {
  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          // The optional fields: an absent dims.kvCache means the original growing layout, an
          // absent graphs.prefill a bundle that prefills on its decoder.
          .injectableValues(
              new InjectableValues.Std()
                  .addValue(BundleManifest.KvCache.DEFAULT_ID, BundleManifest.KvCache.GROWING)
                  .addValue(BundleManifest.Graphs.NO_PREFILL_ID, BundleManifest.Graphs.NO_PREFILL))
          .build();

  private ManifestIo() {}

  /** Parses a manifest from JSON text. */
  public static BundleManifest parse(String json) {
    return parse(json, BundleManifest.class, "bundle manifest");
  }

  /** Reads {@code dir/dam-bundle.json}. */
  public static BundleManifest read(Path bundleDir) {
    Path file = bundleDir.resolve(BundleManifest.FILE_NAME);
    return read(
        file,
        BundleManifest.class,
        "bundle manifest",
        "not a DAM bundle: " + file + " does not exist (convert a checkpoint with `dam convert`)");
  }

  /** JSON text of a manifest; stable key order, so equal manifests give equal bytes. */
  public static String toJson(BundleManifest m) {
    return json(m);
  }

  /** Parses {@code json} as {@code type}; {@code what} names it in messages. */
  static <T> T parse(String json, Class<T> type, String what) {
    try {
      return MAPPER.readValue(json, type);
    } catch (JsonMappingException e) {
      if (e.getCause() instanceof InvalidBundleException ib) {
        throw ib;
      }
      throw new InvalidBundleException(
          "invalid " + what + " at " + path(e) + ": " + e.getOriginalMessage(), e);
    } catch (JsonProcessingException e) {
      throw new InvalidBundleException(what + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** Reads a manifest file; {@code missing} is the message when it does not exist. */
  static <T> T read(Path file, Class<T> type, String what, String missing) {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), type, what);
    } catch (NoSuchFileException e) {
      throw new InvalidBundleException(missing, e);
    } catch (IOException e) {
      throw new InvalidBundleException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  static String json(Object manifest) {
    try {
      return MAPPER.writeValueAsString(manifest) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise manifest", e);
    }
  }

  /** Writes {@code dir/dam-bundle.json}. */
  public static void write(Path bundleDir, BundleManifest m) throws IOException {
    Files.writeString(
        bundleDir.resolve(BundleManifest.FILE_NAME), toJson(m), StandardCharsets.UTF_8);
  }

  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder("$");
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        sb.append('.').append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        sb.append('[').append(r.getIndex()).append(']');
      }
    }
    return sb.toString();
  }

  /**
   * The {@code dims.kvCache} filter of {@link BundleManifest.Dims}: excludes the default {@code
   * growing} from written manifests, so default bundles keep their old bytes.
   */
  static final class OmitGrowingKvCache {
    @Override
    public boolean equals(Object o) {
      return o == null || o == BundleManifest.KvCache.GROWING;
    }

    @Override
    public int hashCode() {
      return 0;
    }
  }
}
