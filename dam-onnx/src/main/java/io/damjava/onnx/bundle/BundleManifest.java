package io.damjava.onnx.bundle;

import static io.damjava.onnx.bundle.ManifestRules.bad;
import static io.damjava.onnx.bundle.ManifestRules.nonBlank;

import com.fasterxml.jackson.annotation.JacksonInject;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.OptBoolean;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The manifest of a bundle ({@code dam-bundle.json}): everything the runtime needs and nothing it
 * can derive. Written by dam-convert, read and validated by dam-onnx. Every field is documented in
 * docs/bundle-format.md. Parsing is strict ({@link ManifestIo}): unknown and missing fields are
 * errors naming their JSON path; the compact constructors check consistency.
 *
 * @param formatVersion {@link #FORMAT_VERSION}
 * @param modelName display name, e.g. {@code DAM-3B}
 * @param variant what the checkpoint was trained for
 * @param precision weight precision of the graphs
 * @param style graph op style
 * @param dims model dimensions
 * @param preprocess image preprocessing constants
 * @param prompt prompt template and default queries
 * @param tokens special token ids
 * @param generation default generation options
 * @param tokenizer file name of the tokenizer inside the bundle
 * @param graphs the five graphs
 * @param files every file of the bundle with its SHA-256
 */
@JsonPropertyOrder({
  "formatVersion",
  "modelName",
  "variant",
  "precision",
  "style",
  "dims",
  "preprocess",
  "prompt",
  "tokens",
  "generation",
  "tokenizer",
  "graphs",
  "files"
})
public record BundleManifest(
    int formatVersion,
    String modelName,
    Variant variant,
    Precision precision,
    Style style,
    Dims dims,
    Preprocess preprocess,
    Prompt prompt,
    Tokens tokens,
    Generation generation,
    String tokenizer,
    Graphs graphs,
    List<FileEntry> files) {

  /** The manifest file name inside a bundle directory. */
  public static final String FILE_NAME = "dam-bundle.json";

  /** The format this code reads and writes. */
  public static final int FORMAT_VERSION = 1;

  public BundleManifest {
    ManifestRules.header(formatVersion, modelName, tokenizer, style, dims);
    files = List.copyOf(files);
    ManifestRules.listed(graphs, tokenizer, files);
  }

  /** The checkpoint kind. */
  public enum Variant {
    /** DAM-3B: image prompts {@code <image>\n{query}}. */
    @JsonProperty("image")
    IMAGE,
    /** DAM-3B-Video: {@code Image: <image>\n} and {@code Video: <image>x8\n} prompts. */
    @JsonProperty("image_video")
    IMAGE_VIDEO
  }

  /** Weight precision. Graph inputs and outputs are float32 in every precision. */
  public enum Precision {
    @JsonProperty("fp32")
    FP32,
    @JsonProperty("fp16")
    FP16,
    @JsonProperty("int8")
    INT8,
    @JsonProperty("int4")
    INT4
  }

  /** Which operator set the graphs use. */
  public enum Style {
    /** ONNX Runtime contrib ops (com.microsoft domain): the fast default. */
    @JsonProperty("contrib")
    CONTRIB,
    /** Standard ONNX opset 17 only: portable, and a cross-check. */
    @JsonProperty("standard")
    STANDARD
  }

  /**
   * How the decoder's KV cache is laid out between steps ({@code dims.kvCache}; optional, absent
   * means {@link #GROWING}).
   */
  public enum KvCache {
    /**
     * {@code present.*} is a new tensor of length P+T every run, fed back as the next {@code past}.
     */
    @JsonProperty("growing")
    GROWING,
    /**
     * {@code past.*} and {@code present.*} are one fixed-capacity buffer per layer that
     * GroupQueryAttention updates in place at position P (ONNX Runtime GenAI's
     * past_present_share_buffer); contrib style only.
     */
    @JsonProperty("shared")
    SHARED;

    /** The injection id that supplies {@link #GROWING} when {@code dims.kvCache} is absent. */
    public static final String DEFAULT_ID = "dims.kvCache";
  }

  /**
   * Model dimensions.
   *
   * @param imageSize square input side, 384
   * @param patchSize vision patch side, 14
   * @param visionTokens tokens per image out of the vision tower, (imageSize/patchSize)^2 = 729
   * @param visionHidden vision width, 1152
   * @param imageTokens tokens per image after the projector's 2x2 merge, 196
   * @param hidden language model width, 2560
   * @param layers decoder layers, 32
   * @param heads attention heads, 20
   * @param kvHeads key/value heads, 20
   * @param headDim per-head width, 128
   * @param vocabSize vocabulary size, 32000
   * @param maxPositions longest sequence the decoder accepts (rotary table length), 4096
   * @param kvDtype element type of past/present tensors: {@code float32} or {@code float16}
   * @param kvCache KV cache layout; optional in the JSON (absent: {@link KvCache#GROWING}, and a
   *     {@code GROWING} value is not written)
   */
  public record Dims(
      int imageSize,
      int patchSize,
      int visionTokens,
      int visionHidden,
      int imageTokens,
      int hidden,
      int layers,
      int heads,
      int kvHeads,
      int headDim,
      int vocabSize,
      int maxPositions,
      String kvDtype,
      @JsonInclude(
              value = JsonInclude.Include.CUSTOM,
              valueFilter = ManifestIo.OmitGrowingKvCache.class)
          KvCache kvCache) {
    /** Dimensions with the default {@link KvCache#GROWING} layout. */
    public Dims(
        int imageSize,
        int patchSize,
        int visionTokens,
        int visionHidden,
        int imageTokens,
        int hidden,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int vocabSize,
        int maxPositions,
        String kvDtype) {
      this(
          imageSize,
          patchSize,
          visionTokens,
          visionHidden,
          imageTokens,
          hidden,
          layers,
          heads,
          kvHeads,
          headDim,
          vocabSize,
          maxPositions,
          kvDtype,
          KvCache.GROWING);
    }

    /**
     * The canonical constructor; {@code kvCache} alone may be absent from the JSON (it is injected
     * as {@link KvCache#GROWING} then, see {@link ManifestIo}).
     */
    public Dims(
        int imageSize,
        int patchSize,
        int visionTokens,
        int visionHidden,
        int imageTokens,
        int hidden,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int vocabSize,
        int maxPositions,
        String kvDtype,
        @JacksonInject(value = KvCache.DEFAULT_ID, useInput = OptBoolean.TRUE) KvCache kvCache) {
      this.imageSize = imageSize;
      this.patchSize = patchSize;
      this.visionTokens = visionTokens;
      this.visionHidden = visionHidden;
      this.imageTokens = imageTokens;
      this.hidden = hidden;
      this.layers = layers;
      this.heads = heads;
      this.kvHeads = kvHeads;
      this.headDim = headDim;
      this.vocabSize = vocabSize;
      this.maxPositions = maxPositions;
      this.kvDtype = kvDtype;
      this.kvCache = kvCache;
      ManifestRules.dims(this);
    }

    /** The same dimensions with another KV cache layout. */
    public Dims withKvCache(KvCache k) {
      return new Dims(
          imageSize,
          patchSize,
          visionTokens,
          visionHidden,
          imageTokens,
          hidden,
          layers,
          heads,
          kvHeads,
          headDim,
          vocabSize,
          maxPositions,
          kvDtype,
          k);
    }
  }

  /**
   * Image preprocessing constants, from the checkpoint's preprocessor and root configs.
   *
   * @param imageMean per-channel mean after scaling to [0, 1]
   * @param imageStd per-channel standard deviation
   * @param resample Pillow filter name; {@code bicubic}
   * @param cropFactor focal-crop window in multiples of the (minimum-sized) box, 3
   * @param minBox minimum box side before the window is taken, 48
   * @param aspectRatio the root config's {@code image_aspect_ratio}; {@code resize}
   */
  public record Preprocess(
      List<Double> imageMean,
      List<Double> imageStd,
      String resample,
      int cropFactor,
      int minBox,
      String aspectRatio) {
    public Preprocess {
      imageMean = List.copyOf(imageMean);
      imageStd = List.copyOf(imageStd);
      ManifestRules.preprocess(imageMean, imageStd, resample, cropFactor, minBox, aspectRatio);
    }
  }

  /**
   * The prompt: conversation template and default queries (plain questions; the template adds the
   * {@code <image>} tags and, for the joint variant, the {@code Image:} / {@code Video:} prefix).
   *
   * @param conversation the reference's {@code conv_mode}, {@code v1}
   * @param imageQuery default question for an image
   * @param videoQuery default question for a video; empty string for the image variant
   * @param imageTokenIndex the placeholder id in prompt ids, -200
   */
  public record Prompt(
      String conversation, String imageQuery, String videoQuery, int imageTokenIndex) {
    public Prompt {
      if (!conversation.equals("v1")) {
        throw bad("prompt.conversation", conversation, "only v1 is supported");
      }
      nonBlank("prompt.imageQuery", imageQuery);
      Objects.requireNonNull(videoQuery, "prompt.videoQuery");
    }
  }

  /**
   * Special token ids.
   *
   * @param bos beginning of sequence, 1
   * @param eos end of sequence (stops generation), 2
   * @param pad padding, 0
   */
  public record Tokens(int bos, int eos, int pad) {}

  /**
   * Default generation options, as the reference's defaults.
   *
   * @param temperature 0.2
   * @param topP 0.5
   * @param topK 50
   * @param maxNewTokens 512
   */
  public record Generation(double temperature, double topP, int topK, int maxNewTokens) {}

  /**
   * One ONNX graph: its file and a map from the role the runtime uses to the graph's tensor name.
   * Per-layer names contain {@code %d} for the layer index.
   *
   * @param file graph file name inside the bundle
   * @param inputs role to input name
   * @param outputs role to output name
   */
  public record GraphSpec(String file, Map<String, String> inputs, Map<String, String> outputs) {
    public GraphSpec {
      nonBlank("graphs.*.file", file);
      inputs = Map.copyOf(inputs);
      outputs = Map.copyOf(outputs);
    }

    /** The input name for a role. */
    public String input(String role) {
      String n = inputs.get(role);
      if (n == null) {
        throw bad("graphs." + file + ".inputs", inputs.keySet(), "missing role '" + role + "'");
      }
      return n;
    }

    /** The output name for a role. */
    public String output(String role) {
      String n = outputs.get(role);
      if (n == null) {
        throw bad("graphs." + file + ".outputs", outputs.keySet(), "missing role '" + role + "'");
      }
      return n;
    }
  }

  /**
   * The five graphs of DESIGN.md (and an optional sixth), with the roles the runtime uses.
   *
   * @param visionContext roles: in {@code pixels} (B,4,S,S); out {@code features} (B,729,Hv)
   * @param visionFocal roles: in {@code pixels} (B,4,S,S), {@code context} (B,729,Hv); out {@code
   *     features} (B,729,Hv)
   * @param projector roles: in {@code features} (B,729,Hv); out {@code embeds} (B,196,H)
   * @param embedTokens roles: in {@code ids} (B,T) int64; out {@code embeds} (B,T,H)
   * @param decoder roles: in {@code embeds} (B,T,H), {@code attentionMask} (B,P+T) int64, {@code
   *     positionIds} (B,T) int64, {@code pastKey}/{@code pastValue} (B,kvHeads,P,headDim); out
   *     {@code logits} (B,1,V) last position only, {@code presentKey}/{@code presentValue}
   * @param prefill optional (null: none): a second decoder with the same roles, I/O and KV layout,
   *     whose linear layers suit many rows (int8 DynamicQuantizeMatMul); the engine runs every
   *     multi-position prefill on it and the one-token steps on {@code decoder}
   */
  public record Graphs(
      GraphSpec visionContext,
      GraphSpec visionFocal,
      GraphSpec projector,
      GraphSpec embedTokens,
      GraphSpec decoder,
      @com.fasterxml.jackson.annotation.JsonInclude(
              com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
          GraphSpec prefill) {
    /** The injection id that supplies "no prefill graph" when {@code graphs.prefill} is absent. */
    public static final String NO_PREFILL_ID = "graphs.prefill";

    /** What {@link ManifestIo} injects for an absent {@code graphs.prefill}; never kept. */
    public static final GraphSpec NO_PREFILL = new GraphSpec("(none)", Map.of(), Map.of());

    /**
     * The canonical constructor; {@code prefill} may be absent from the JSON (or null here): then
     * prefill runs on the decoder.
     */
    public Graphs(
        GraphSpec visionContext,
        GraphSpec visionFocal,
        GraphSpec projector,
        GraphSpec embedTokens,
        GraphSpec decoder,
        @JacksonInject(value = NO_PREFILL_ID, useInput = OptBoolean.TRUE) GraphSpec prefill) {
      this.visionContext = Objects.requireNonNull(visionContext, "graphs.visionContext");
      this.visionFocal = Objects.requireNonNull(visionFocal, "graphs.visionFocal");
      this.projector = Objects.requireNonNull(projector, "graphs.projector");
      this.embedTokens = Objects.requireNonNull(embedTokens, "graphs.embedTokens");
      this.decoder = Objects.requireNonNull(decoder, "graphs.decoder");
      this.prefill = prefill == NO_PREFILL ? null : prefill;
    }

    /** The five graphs every bundle has; prefill runs on the decoder. */
    public Graphs(
        GraphSpec visionContext,
        GraphSpec visionFocal,
        GraphSpec projector,
        GraphSpec embedTokens,
        GraphSpec decoder) {
      this(visionContext, visionFocal, projector, embedTokens, decoder, null);
    }

    /** Graph name to spec, in pipeline order; {@code prefill} only where the bundle has one. */
    public Map<String, GraphSpec> all() {
      var m = new java.util.LinkedHashMap<String, GraphSpec>();
      m.put("visionContext", visionContext);
      m.put("visionFocal", visionFocal);
      m.put("projector", projector);
      m.put("embedTokens", embedTokens);
      m.put("decoder", decoder);
      if (prefill != null) {
        m.put("prefill", prefill);
      }
      return m;
    }
  }

  /**
   * A file of the bundle and its checksum.
   *
   * @param path relative path inside the bundle (no {@code ..}, not absolute)
   * @param bytes size in bytes
   * @param sha256 lowercase hex SHA-256 of the content
   */
  public record FileEntry(String path, long bytes, String sha256) {
    public FileEntry {
      ManifestRules.fileEntry(path, bytes, sha256);
    }
  }
}
