package io.damjava.api;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * How to generate a description. Immutable and validated on construction: every bad value is
 * rejected with an {@link InvalidInputException} that names the field and the value.
 *
 * <p>Defaults follow the reference's {@code DescribeAnythingModel.get_description}: temperature
 * 0.2, top-p 0.5, top-k {@link #MODEL_TOP_K} (the model's own: its {@code generation_config.json}
 * {@code top_k}, 50 when it sets none, as Hugging Face's generate applies it), 512 new tokens, no
 * seed (a fresh random seed per call), the model's default query. The reference's server uses top-p
 * 0.9. Temperature 0 means greedy decoding, which is deterministic.
 *
 * <pre>{@code
 * GenerationOptions greedy = GenerationOptions.defaults().withTemperature(0);
 * GenerationOptions seeded = GenerationOptions.builder().temperature(0.7).topP(0.9).seed(42).build();
 * }</pre>
 *
 * @param temperature softmax temperature, {@code >= 0}; 0 is greedy
 * @param topP nucleus mass kept, in (0, 1]
 * @param topK tokens kept by value rank, {@code >= 0}; 0 disables; {@link #MODEL_TOP_K} takes the
 *     model's value
 * @param maxNewTokens upper bound on generated tokens, {@code >= 1}
 * @param seed seed for sampling; empty means a fresh random seed per call
 * @param query the question asked about the region; empty means the model's default query
 */
public record GenerationOptions(
    double temperature,
    double topP,
    int topK,
    int maxNewTokens,
    OptionalLong seed,
    Optional<String> query) {

  public static final double DEFAULT_TEMPERATURE = 0.2;
  public static final double DEFAULT_TOP_P = 0.5;

  /** Hugging Face's top-k when a model's generation config sets none. */
  public static final int DEFAULT_TOP_K = 50;

  /**
   * {@link #topK()} value meaning "the model's top-k": the engine applies the {@code top_k} of the
   * checkpoint's {@code generation_config.json} ({@link #DEFAULT_TOP_K} when it sets none), as
   * Hugging Face's generate does for a call that passes no {@code top_k}. The builder's default.
   */
  public static final int MODEL_TOP_K = -1;

  public static final int DEFAULT_MAX_NEW_TOKENS = 512;

  private static final GenerationOptions DEFAULTS = builder().build();

  public GenerationOptions {
    Objects.requireNonNull(seed, "seed");
    Objects.requireNonNull(query, "query");
    if (!(temperature >= 0) || Double.isInfinite(temperature)) {
      throw new InvalidInputException(
          "temperature must be a finite number >= 0 (0 = greedy), got " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new InvalidInputException("topP must be in (0, 1], got " + topP);
    }
    if (topK < MODEL_TOP_K) {
      throw new InvalidInputException(
          "topK must be >= 0 (0 disables top-k) or MODEL_TOP_K (-1, the model's), got " + topK);
    }
    if (maxNewTokens < 1) {
      throw new InvalidInputException("maxNewTokens must be >= 1, got " + maxNewTokens);
    }
    if (query.isPresent() && query.get().isBlank()) {
      throw new InvalidInputException("query must not be blank; leave it unset for the default");
    }
  }

  /** The defaults described above. */
  public static GenerationOptions defaults() {
    return DEFAULTS;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these values. */
  public Builder toBuilder() {
    Builder b =
        new Builder().temperature(temperature).topP(topP).topK(topK).maxNewTokens(maxNewTokens);
    b.seed = seed;
    b.query = query;
    return b;
  }

  public boolean greedy() {
    return temperature == 0;
  }

  public GenerationOptions withTemperature(double t) {
    return toBuilder().temperature(t).build();
  }

  public GenerationOptions withMaxNewTokens(int n) {
    return toBuilder().maxNewTokens(n).build();
  }

  public GenerationOptions withSeed(long s) {
    return toBuilder().seed(s).build();
  }

  public GenerationOptions withQuery(String q) {
    return toBuilder().query(q).build();
  }

  /** Mutable builder; {@link #build()} validates. */
  public static final class Builder {
    private double temperature = DEFAULT_TEMPERATURE;
    private double topP = DEFAULT_TOP_P;
    private int topK = MODEL_TOP_K;
    private int maxNewTokens = DEFAULT_MAX_NEW_TOKENS;
    private OptionalLong seed = OptionalLong.empty();
    private Optional<String> query = Optional.empty();

    private Builder() {}

    public Builder temperature(double v) {
      temperature = v;
      return this;
    }

    public Builder topP(double v) {
      topP = v;
      return this;
    }

    public Builder topK(int v) {
      topK = v;
      return this;
    }

    public Builder maxNewTokens(int v) {
      maxNewTokens = v;
      return this;
    }

    public Builder seed(long v) {
      seed = OptionalLong.of(v);
      return this;
    }

    /** The question about the region, e.g. "Describe the masked region in detail." */
    public Builder query(String v) {
      query = Optional.of(Objects.requireNonNull(v, "query"));
      return this;
    }

    public GenerationOptions build() {
      return new GenerationOptions(temperature, topP, topK, maxNewTokens, seed, query);
    }
  }
}
