/**
 * A seeded fuzz harness over every parser that reads user input: images and masks, safetensors
 * headers, bundle manifests, tokenizer files and HTTP requests. Run the short mode in CI (the
 * dam-bench tests) and the long one with {@code ./dam bench fuzz}; see docs/RELIABILITY.md.
 */
package io.damjava.bench.fuzz;
