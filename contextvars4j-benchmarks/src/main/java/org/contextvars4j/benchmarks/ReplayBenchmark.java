package org.contextvars4j.benchmarks;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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
 * The receiving side of a hop: values captured elsewhere ({@code n} variables bound, captured,
 * then unbound: the benchmark thread has none of them), and a no-op run in them.
 *
 * <ul>
 *   <li>{@link #heldContext}: {@link ContextSystem#replay} of a held capture: contextvars4j {@code
 *       ctx.run(task)} (one compare-and-set to enter), OpenTelemetry {@code ctx.wrap(task).run()},
 *       gRPC {@code ctx.run(task)}, TTL {@code Transmitter.replay}/{@code restore}, Micrometer
 *       {@code snapshot.setThreadLocals()}, ThreadLocal by hand (set each value, run, restore);
 *   <li>{@link #wrappedTask}: a task wrapped elsewhere ({@link ContextSystem#captureAndWrap}), run:
 *       for contextvars4j {@code ContextExecutors.capture(task)}, the wrappers' private-context
 *       path, which needs no atomic operation.
 * </ul>
 *
 * <p>Targets: {@code heldContext} at most 1.5 × OpenTelemetry's, {@code wrappedTask} at most
 * OpenTelemetry's. {@link CasFloorBenchmark} measures the compare-and-set alone in the same run.
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar ReplayBenchmark -prof gc
 * }
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class ReplayBenchmark {

  @Param({"CONTEXTVARS4J", "THREAD_LOCAL", "TTL", "OPENTELEMETRY", "GRPC", "MICROMETER"})
  SystemType system;

  @Param({"1", "10"})
  int n;

  private ContextSystem receiving;
  private Object held;
  private Runnable wrapped;

  @Setup
  public void setup() {
    receiving = system.create();
    receiving.bind(n);
    held = receiving.capture();
    wrapped = receiving.captureAndWrap(ContextSystem.NOOP);
    receiving.unbind();
    AtomicReference<Object> seen = new AtomicReference<>();
    receiving.replay(held, () -> seen.set(Checks.read(receiving)));
    Checks.require(seen.get() == ContextSystem.VALUE, receiving, "replay saw " + seen.get());
    Checks.tenure();
  }

  /** Runs a no-op in the held capture. */
  @Benchmark
  public void heldContext() {
    receiving.replay(held, ContextSystem.NOOP);
  }

  /** Runs a no-op task wrapped elsewhere. */
  @Benchmark
  public void wrappedTask() {
    wrapped.run();
  }
}
