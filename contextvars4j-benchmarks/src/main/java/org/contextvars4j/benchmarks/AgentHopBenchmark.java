package org.contextvars4j.benchmarks;

import com.alibaba.ttl.TransmittableThreadLocal;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.concurrent.ContextExecutors;
import org.contextvars4j.concurrent.ContextFutures;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * What propagation by a java agent costs: an executor hop and a {@code CompletableFuture} chain
 * through a raw JDK pool, with the value carried by contextvars4j's agent, by TTL's agent, or by
 * contextvars4j's wrappers without an agent, and not carried at all (the floor). The hop is {@link
 * ExecutorHopBenchmark}'s: a {@code FutureTask} handed to a single-thread pool whose worker spins,
 * the benchmark thread spinning until it is done.
 *
 * <p>Each mode needs its own JVM, which the command line gives it; the setup refuses a JVM that
 * does not match (an agent missing, or one present where none should be), and checks that the
 * pool's task sees the value (with {@code NONE}: that it does not):
 *
 * <pre>{@code
 * java -jar $B AgentHopBenchmark -p mode=WRAPPERS,NONE
 * java -jar $B AgentHopBenchmark -p mode=AGENT,WRAPPERS_UNDER_AGENT \
 *   -jvmArgsAppend -javaagent:contextvars4j-agent.jar
 * java -jar $B AgentHopBenchmark -p mode=TTL_AGENT \
 *   -jvmArgsAppend -javaagent:transmittable-thread-local-2.14.5.jar
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class AgentHopBenchmark {

  /** Who carries the value across the hop. */
  public enum Mode {
    /** contextvars4j's agent; raw JDK calls. */
    AGENT,
    /** contextvars4j's {@code ContextExecutors.wrap} and {@code ContextFutures}; no agent. */
    WRAPPERS,
    /** The wrappers under contextvars4j's agent: what they carry is not carried again. */
    WRAPPERS_UNDER_AGENT,
    /** TTL's agent and a {@code TransmittableThreadLocal}; raw JDK calls. */
    TTL_AGENT,
    /** Nobody: a {@code ThreadLocal} and raw JDK calls; no agent. */
    NONE
  }

  @Param({"AGENT", "WRAPPERS", "WRAPPERS_UNDER_AGENT", "TTL_AGENT", "NONE"})
  Mode mode;

  private static final ContextVar<Object> VAR = ContextVar.named("request");
  private static final TransmittableThreadLocal<Object> TTL = new TransmittableThreadLocal<>();
  private static final ThreadLocal<Object> LOCAL = new ThreadLocal<>();

  private ThreadPoolExecutor pool;
  private ExecutorService executor;
  private Callable<Object> read;
  private Context.Scope entered;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    boolean ours = Context.class.getClassLoader() == null;
    boolean ttl = ttlAgentLoaded();
    Checks.require(
        ours == (mode == Mode.AGENT || mode == Mode.WRAPPERS_UNDER_AGENT)
            && ttl == (mode == Mode.TTL_AGENT),
        mode.name(),
        "the JVM has contextvars4j's agent: " + ours + ", TTL's agent: " + ttl
            + " (see the class's javadoc for each mode's command line)");
    pool = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ExecutorHopBenchmark.SpinningQueue());
    pool.prestartAllCoreThreads();
    boolean wrapped = mode == Mode.WRAPPERS || mode == Mode.WRAPPERS_UNDER_AGENT;
    executor = wrapped ? ContextExecutors.wrap(pool) : pool;
    read =
        switch (mode) {
          case AGENT, WRAPPERS, WRAPPERS_UNDER_AGENT -> () -> VAR.getOrDefault(null);
          case TTL_AGENT -> TTL::get;
          case NONE -> LOCAL::get;
        };
    Checks.tenure();
  }

  /**
   * Binds the value, and checks that the pool's task and the chain's last stage see it (with
   * {@code NONE}: that they do not). Per iteration: under an agent, each of JMH's iterations is a
   * task of JMH's own pool, which starts from the context JMH submitted it in, so a value bound
   * in a trial's setup would not reach the next iteration's task.
   */
  @Setup(Level.Iteration)
  public void bind() throws Exception {
    switch (mode) {
      case AGENT, WRAPPERS, WRAPPERS_UNDER_AGENT -> {
        entered = new Context().enter();
        VAR.set(ContextSystem.VALUE);
      }
      case TTL_AGENT -> TTL.set(ContextSystem.VALUE);
      case NONE -> LOCAL.set(ContextSystem.VALUE);
    }
    Object expected = mode == Mode.NONE ? null : ContextSystem.VALUE;
    Checks.require(hop() == expected, mode.name(), "the pool's task saw " + hop());
    Checks.require(chain() == expected, mode.name(), "the chain's last stage saw " + chain());
  }

  private static boolean ttlAgentLoaded() {
    try {
      return (Boolean)
          Class.forName("com.alibaba.ttl.threadpool.agent.TtlAgent")
              .getMethod("isTtlAgentLoaded")
              .invoke(null);
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  @TearDown(Level.Iteration)
  public void unbind() {
    if (entered != null) {
      entered.close();
      entered = null;
    }
    TTL.remove();
    LOCAL.remove();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws InterruptedException {
    pool.shutdown();
    pool.awaitTermination(10, TimeUnit.SECONDS);
  }

  /** A task that reads the value, run on the pool; the benchmark thread waits for its result. */
  @Benchmark
  public Object hop() throws Exception {
    return ExecutorHopBenchmark.handOver(executor, read);
  }

  /**
   * {@code submit} of a {@code Callable} that reads the value: the pool wraps it in its own {@code
   * FutureTask}, which the agent looks through when the wrappers bound the callable already.
   */
  @Benchmark
  public Object submit() throws ExecutionException, InterruptedException {
    Future<Object> future = executor.submit(read);
    while (!future.isDone()) {
      Thread.onSpinWait();
    }
    return future.get();
  }

  /**
   * {@code supplyAsync} on the pool, then two dependent stages, each reading the value; the
   * benchmark thread waits for the last.
   */
  @Benchmark
  public Object chain() throws ExecutionException, InterruptedException {
    Supplier<Object> supplier =
        () -> {
          try {
            return read.call();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        };
    CompletableFuture<Object> first =
        mode == Mode.WRAPPERS || mode == Mode.WRAPPERS_UNDER_AGENT
            ? ContextFutures.supplyAsync(supplier, pool)
            : CompletableFuture.supplyAsync(supplier, pool);
    CompletableFuture<Object> last =
        first.thenApply(v -> v == supplier.get() ? v : null).thenApply(v -> v == supplier.get() ? v : null);
    while (!last.isDone()) {
      Thread.onSpinWait();
    }
    return last.get();
  }
}
