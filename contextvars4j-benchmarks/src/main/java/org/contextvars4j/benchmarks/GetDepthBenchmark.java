package org.contextvars4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.contextvars4j.ContextVar;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code ContextVar.get()} of a variable set before {@code later} other sets in the same frame:
 * a request that sets its trace context first and then a few variables reads the first one past
 * the others' slots. The cost should be nearly flat in {@code later}.
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar GetDepthBenchmark
 * }
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class GetDepthBenchmark {

  /** Sets made after the read variable's, in the same frame. */
  @Param({"0", "1", "2", "5", "7"})
  int later;

  private final ContextVar<Object> first = ContextVar.named("first");

  @Setup
  public void setup() {
    first.set(ContextSystem.VALUE);
    for (int i = 0; i < later; i++) {
      ContextVar.named("later" + i).set(ContextSystem.VALUE);
    }
    Checks.tenure();
  }

  /** {@code get()} of the variable set first. */
  @Benchmark
  public Object getFirst() {
    return first.get();
  }
}
