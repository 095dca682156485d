/** dam-onnx: see docs/ARCHITECTURE.md. */
package io.damjava.onnx;
