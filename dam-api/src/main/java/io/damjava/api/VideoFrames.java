package io.damjava.api;

/** Frame selection for video descriptions. */
public final class VideoFrames {
  private VideoFrames() {}

  /**
   * The indices of {@code count} frames picked evenly from {@code total}, as the reference's {@code
   * np.linspace(0, total - 1, count, dtype=int)}: first and last frame included, truncation toward
   * zero.
   *
   * @throws InvalidInputException if {@code total < count} or {@code count < 1}
   */
  public static int[] pick(int total, int count) {
    if (count < 1 || total < count) {
      throw new InvalidInputException(
          "cannot pick "
              + count
              + " frames from "
              + total
              + ": the clip needs at least "
              + count
              + " frames");
    }
    int[] idx = new int[count];
    if (count == 1) {
      return idx;
    }
    double step = (double) (total - 1) / (count - 1);
    for (int i = 0; i < count; i++) {
      idx[i] = i == count - 1 ? total - 1 : (int) (i * step);
    }
    return idx;
  }
}
