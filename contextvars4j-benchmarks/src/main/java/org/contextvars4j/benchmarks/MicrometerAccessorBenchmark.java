package org.contextvars4j.benchmarks;

import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import java.util.concurrent.TimeUnit;
import org.contextvars4j.ContextVar;
import org.contextvars4j.micrometer.ContextThreadLocalAccessor;
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
 * What Reactor's automatic mode and Spring's {@code ContextPropagatingTaskDecorator} pay per hop
 * through Micrometer context-propagation: {@code captureAll()} where the work is handed over, then
 * {@code setThreadLocals()} and the scope's close where it runs, on one thread. {@code
 * THREAD_LOCALS}: {@code n} {@code ThreadLocal}s, each with its accessor, as Micrometer's users
 * register them; {@code CONTEXTVARS4J}: {@code n} {@code ContextVar}s carried by the one {@link
 * ContextThreadLocalAccessor}. Each registry holds exactly the accessors of its system.
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar MicrometerAccessorBenchmark -prof gc
 * }
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class MicrometerAccessorBenchmark {

  /** How the values are held. */
  public enum Accessors {
    /** {@code n} {@code ThreadLocal}s, an accessor each. */
    THREAD_LOCALS,
    /** {@code n} {@code ContextVar}s, one accessor for the context. */
    CONTEXTVARS4J
  }

  @Param({"THREAD_LOCALS", "CONTEXTVARS4J"})
  Accessors accessors;

  @Param({"1", "5", "20"})
  int n;

  private ContextSnapshotFactory factory;
  private ThreadLocal<?>[] threadLocals;
  private org.contextvars4j.Context.Scope entered;

  @Setup
  public void setup() {
    ContextRegistry registry = new ContextRegistry();
    if (accessors == Accessors.THREAD_LOCALS) {
      threadLocals = new ThreadLocal<?>[n];
      for (int i = 0; i < n; i++) {
        ThreadLocal<Object> local = new ThreadLocal<>();
        local.set(ContextSystem.VALUE);
        registry.registerThreadLocalAccessor("var" + i, local);
        threadLocals[i] = local;
      }
    } else {
      registry.registerThreadLocalAccessor(new ContextThreadLocalAccessor());
      // The benchmark thread works inside a context of its own, as a request thread does.
      entered = new org.contextvars4j.Context().enter();
      for (int i = 0; i < n; i++) {
        ContextVar.named("var" + i).set(ContextSystem.VALUE);
      }
    }
    factory = ContextSnapshotFactory.builder().contextRegistry(registry).build();
    hop();
    Checks.tenure();
  }

  @TearDown
  public void tearDown() {
    if (entered != null) {
      entered.close();
    }
    if (threadLocals != null) {
      for (ThreadLocal<?> local : threadLocals) {
        local.remove();
      }
    }
  }

  /** Capture where the work is handed over; restore, run nothing, and close where it runs. */
  @Benchmark
  public void hop() {
    ContextSnapshot snapshot = factory.captureAll();
    try (ContextSnapshot.Scope ignored = snapshot.setThreadLocals()) {
      // the task
    }
  }
}
