package org.contextvars4j.benchmarks;

import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ThreadLocalAccessor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
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
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.scheduler.Schedulers;

/**
 * A whole Reactor pipeline under automatic context propagation ({@code
 * Hooks.enableAutomaticContextPropagation()}): {@code Flux.range(0, elements)}, a {@code
 * publishOn(Schedulers.parallel())} hop and ten operators ({@code map}, {@code filter}, {@code
 * handle}), blocked on from the benchmark thread. What each system costs is what Reactor pays to
 * capture the subscriber's values at the subscription and to restore them around the signals on the
 * scheduler's thread. {@code CONTEXTVARS4J}: {@value #VARIABLES} {@code ContextVar}s carried by the
 * one {@link ContextThreadLocalAccessor}; {@code THREAD_LOCALS}: {@value #VARIABLES} {@code
 * ThreadLocal}s, each with its accessor, registered the usual way ({@code
 * registerThreadLocalAccessor(key, threadLocal)}), each holding a value; {@code NONE}: no accessor
 * at all, Reactor's automatic mode with nothing to carry, the floor.
 *
 * <p>Reactor reads the global {@code ContextRegistry.getInstance()}, so the setup makes that
 * registry hold exactly the accessors of the fork's system (it removes the ones the service lookup
 * found, {@link ContextThreadLocalAccessor} among them) and checks that it does; JMH runs each
 * system in forks of its own. The setup then runs the pipeline once and throws unless its last
 * operator ran on a scheduler thread and saw every value of the system, so a misconfigured run
 * reports no figure.
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar ReactorPipelineBenchmark -prof gc
 * }
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class ReactorPipelineBenchmark {

  /** The number of values each system carries. */
  static final int VARIABLES = 5;

  /** The bound on each blocking wait: a stuck pipeline fails the run rather than hanging it. */
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** What carries the subscriber's values across the pipeline's hop. */
  public enum Propagation {
    /**
     * {@value ReactorPipelineBenchmark#VARIABLES} {@code ContextVar}s, one accessor for the
     * context.
     */
    CONTEXTVARS4J,
    /** {@value ReactorPipelineBenchmark#VARIABLES} {@code ThreadLocal}s, an accessor each. */
    THREAD_LOCALS,
    /** No accessor: automatic mode with nothing to carry. */
    NONE
  }

  @Param({"CONTEXTVARS4J", "THREAD_LOCALS", "NONE"})
  Propagation system;

  @Param({"1", "100"})
  int elements;

  private Flux<Integer> pipeline;
  private final List<ContextVar<Object>> vars = new ArrayList<>();
  private final List<ThreadLocal<Object>> threadLocals = new ArrayList<>();
  private org.contextvars4j.Context.Scope entered;

  /** While the setup verifies: what the last operator saw of each element. */
  private volatile Queue<String> seen;

  @Setup
  public void setup() {
    ContextRegistry registry = ContextRegistry.getInstance();
    for (ThreadLocalAccessor<?> found : List.copyOf(registry.getThreadLocalAccessors())) {
      registry.removeThreadLocalAccessor(found.key());
    }
    List<Object> keys = new ArrayList<>();
    switch (system) {
      case CONTEXTVARS4J -> {
        registry.registerThreadLocalAccessor(new ContextThreadLocalAccessor());
        keys.add(ContextThreadLocalAccessor.KEY);
        // The benchmark thread works inside a context of its own, as a request thread does.
        entered = new org.contextvars4j.Context().enter();
        for (int i = 0; i < VARIABLES; i++) {
          ContextVar<Object> var = ContextVar.named("var" + i);
          var.set(ContextSystem.VALUE);
          vars.add(var);
        }
      }
      case THREAD_LOCALS -> {
        for (int i = 0; i < VARIABLES; i++) {
          ThreadLocal<Object> local = new ThreadLocal<>();
          local.set(ContextSystem.VALUE);
          registry.registerThreadLocalAccessor("var" + i, local);
          threadLocals.add(local);
          keys.add("var" + i);
        }
      }
      case NONE -> {}
    }
    List<Object> registered = new ArrayList<>();
    registry.getThreadLocalAccessors().forEach(accessor -> registered.add(accessor.key()));
    Checks.require(
        registered.equals(keys), system.name(), "the registry holds the accessors " + registered);

    Hooks.enableAutomaticContextPropagation();
    pipeline =
        Flux.range(0, elements)
            .publishOn(Schedulers.parallel())
            .map(i -> i + 1)
            .filter(i -> i > 0)
            .map(i -> i * 2)
            .<Integer>handle((i, sink) -> sink.next(i + 1))
            .filter(i -> (i & 1) == 1)
            .map(i -> i >> 1)
            .<Integer>handle((i, sink) -> sink.next(i - 1))
            .filter(i -> i >= 0)
            .map(i -> i * 3)
            .<Integer>handle(
                (i, sink) -> {
                  Queue<String> verifying = seen;
                  if (verifying != null) {
                    verifying.add(Thread.currentThread().getName() + ": " + visible() + " values");
                  }
                  sink.next(i / 3);
                });
    verify();
    Checks.tenure();
  }

  /** Runs the pipeline once and throws unless its last operator saw what the system carries. */
  private void verify() {
    Queue<String> verifying = new ConcurrentLinkedQueue<>();
    seen = verifying;
    Object last = pipeline();
    seen = null;
    String benchmarkThread = Thread.currentThread().getName();
    int expected = system == Propagation.NONE ? 0 : VARIABLES;
    Checks.require(
        Integer.valueOf(elements - 1).equals(last), system.name(), "the pipeline returned " + last);
    Checks.require(
        verifying.size() == elements,
        system.name(),
        "the last operator saw " + verifying.size() + " elements of " + elements);
    for (String element : verifying) {
      Checks.require(
          !element.startsWith(benchmarkThread + ":")
              && element.endsWith(": " + expected + " values"),
          system.name(),
          "the last operator saw \""
              + element
              + "\", not "
              + expected
              + " values on a scheduler thread (the benchmark thread is "
              + benchmarkThread
              + ")");
    }
  }

  /** {@return how many of the system's values the calling thread sees} */
  private int visible() {
    int count = 0;
    for (int i = 0; i < VARIABLES; i++) {
      Object value =
          switch (system) {
            case CONTEXTVARS4J -> vars.get(i).getOrDefault(null);
            case THREAD_LOCALS -> threadLocals.get(i).get();
            case NONE -> null;
          };
      if (value == ContextSystem.VALUE) {
        count++;
      }
    }
    return count;
  }

  @TearDown
  public void tearDown() {
    Hooks.disableAutomaticContextPropagation();
    if (entered != null) {
      entered.close();
    }
    threadLocals.forEach(ThreadLocal::remove);
  }

  /** Subscribes, and waits (bounded) for the last element: one whole run of the pipeline. */
  @Benchmark
  public Object pipeline() {
    return pipeline.blockLast(TIMEOUT);
  }
}
