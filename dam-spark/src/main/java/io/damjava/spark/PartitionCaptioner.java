package io.damjava.spark;

import io.damjava.api.Caption;
import io.damjava.api.DamException;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Region;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Describes the rows of one partition: consecutive rows with the same image (up to the batch size)
 * go through the engine in one call, so the image is decoded once and the vision work is batched. A
 * row whose image or region is unusable gets an error instead; the rest of its batch is still
 * described. Lazy: it reads one batch ahead of what Spark has consumed.
 */
final class PartitionCaptioner implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;

  private final StructType schema;
  private final CaptionConfig config;

  PartitionCaptioner(StructType schema, CaptionConfig config) {
    this.schema = schema;
    this.config = config;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> input) {
    RowRegions regions = new RowRegions(schema, config);
    return new Iterator<>() {
      private final ArrayDeque<Row> ready = new ArrayDeque<>();
      private Row pending;
      private DescribeAnything dam;
      private GenerationOptions options;

      @Override
      public boolean hasNext() {
        while (ready.isEmpty() && (pending != null || input.hasNext())) {
          List<Row> batch = new ArrayList<>();
          batch.add(pending != null ? pending : input.next());
          pending = null;
          Object key = regions.imageKey(batch.get(0));
          while (batch.size() < config.batchSize() && input.hasNext()) {
            Row next = input.next();
            if (key != null && sameImage(key, regions.imageKey(next))) {
              batch.add(next);
            } else {
              pending = next;
              break;
            }
          }
          ready.addAll(describe(batch, key));
        }
        return !ready.isEmpty();
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return ready.poll();
      }

      private List<Row> describe(List<Row> batch, Object key) {
        Row[] out = new Row[batch.size()];
        DamImage image;
        try {
          image = regions.readImage(key);
        } catch (DamException e) {
          return batch.stream().map(r -> CaptionColumns.failed(r, e)).toList();
        }
        List<Integer> good = new ArrayList<>();
        List<Region> goodRegions = new ArrayList<>();
        for (int i = 0; i < out.length; i++) {
          try {
            goodRegions.add(regions.region(batch.get(i), image));
            good.add(i);
          } catch (DamException e) {
            out[i] = CaptionColumns.failed(batch.get(i), e);
          }
        }
        if (!good.isEmpty()) {
          engine();
          List<Caption> captions = null;
          try {
            captions = dam.describe(image, goodRegions, options);
          } catch (DamException e) {
            if (good.size() == 1) {
              out[good.get(0)] = CaptionColumns.failed(batch.get(good.get(0)), e);
            }
            // else: one region spoiled the batch; describe them one by one below to find it
          }
          for (int j = 0; j < good.size(); j++) {
            int i = good.get(j);
            if (out[i] != null) {
              continue;
            }
            if (captions != null) {
              out[i] = CaptionColumns.described(batch.get(i), captions.get(j));
            } else {
              try {
                out[i] =
                    CaptionColumns.described(
                        batch.get(i),
                        dam.describe(image, List.of(goodRegions.get(j)), options).get(0));
              } catch (DamException e) {
                out[i] = CaptionColumns.failed(batch.get(i), e);
              }
            }
          }
        }
        return Arrays.asList(out);
      }

      private void engine() {
        if (dam == null) {
          dam = DamEngines.get(config.engine());
          options = config.options(dam.defaultOptions());
        }
      }
    };
  }

  private static boolean sameImage(Object a, Object b) {
    if (a instanceof byte[] x && b instanceof byte[] y) {
      return Arrays.equals(x, y);
    }
    return a.equals(b);
  }
}
