/** dam-bench: see docs/ARCHITECTURE.md. */
package io.damjava.bench;
