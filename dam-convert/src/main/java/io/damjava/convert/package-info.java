/** dam-convert: see docs/ARCHITECTURE.md. */
package io.damjava.convert;
