/**
 * dam-tokenizer: the Llama BPE tokenizer ({@code tokenizer.model} or {@code tokenizer.json}), DAM
 * prompt templates with the {@code <image>} chunking rule, and a UTF-8-safe streaming detokenizer.
 * Entry points: {@link io.damjava.tokenizer.Tokenizer#load}, {@link
 * io.damjava.tokenizer.PromptBuilder}, {@link io.damjava.tokenizer.IncrementalDetokenizer}. See
 * docs/tokenizer.md.
 */
package io.damjava.tokenizer;
