package org.contextvars4j.benchmarks;

import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Operation 3: capturing the current values for another thread, with {@code n} variables bound:
 * contextvars4j {@code Context.copyCurrent()}, TTL {@code Transmitter.capture()}, OpenTelemetry
 * and gRPC {@code Context.current()}, Micrometer {@code factory.captureAll()}, and for {@code
 * ThreadLocal} and {@code InheritableThreadLocal} a copy of the {@code n} values into an array.
 * {@code ScopedValue} has no capture (see {@link ScopedValueSystem}). The capture is returned, so
 * that it is made as it would be to hand it over.
 *
 * <p>Target: contextvars4j at most 2 × OpenTelemetry's {@code Context.current()}, flat
 * in {@code n}.
 *
 * <p>Run with the rest of the suite by {@code bin/bench}, or alone:
 *
 * <pre>{@code
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar CaptureBenchmark -prof gc
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class CaptureBenchmark {

  @Param({
    "CONTEXTVARS4J",
    "THREAD_LOCAL",
    "INHERITABLE_THREAD_LOCAL",
    "TTL",
    "OPENTELEMETRY",
    "GRPC",
    "MICROMETER"
  })
  SystemType system;

  @Param({"1", "10", "100", "1000"})
  int n;

  private ContextSystem bound;

  @Setup
  public void setup() {
    bound = system.create();
    bound.bind(n);
    Checks.requireCarried(bound);
  }

  @TearDown
  public void tearDown() {
    bound.unbind();
  }

  /** Captures the current values. */
  @Benchmark
  public Object capture() {
    return bound.capture();
  }
}
