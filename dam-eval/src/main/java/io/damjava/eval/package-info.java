/**
 * DLC-Bench, the detailed localized captioning benchmark of the Describe Anything paper, as its
 * official {@code evaluation/} scripts run it: read the benchmark (COCO-format annotations with
 * compressed RLE masks), generate one description per annotation, ask an OpenAI-compatible judge
 * the benchmark's multiple-choice questions about each description, and score the answers.
 */
package io.damjava.eval;
