/** dam-tokenizer: see docs/ARCHITECTURE.md. */
package io.damjava.tokenizer;
