/** dam-server: see docs/ARCHITECTURE.md. */
package io.damjava.server;
