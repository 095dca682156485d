/** dam-cli: see docs/ARCHITECTURE.md. */
package io.damjava.cli;
