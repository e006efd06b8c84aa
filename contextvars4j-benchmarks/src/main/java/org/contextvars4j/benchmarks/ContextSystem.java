package org.contextvars4j.benchmarks;

import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One context-propagation system (contextvars4j or a peer) seen through the operations the
 * benchmarks measure, as Caffeine's {@code BasicCache} adapts each cache. {@link SystemType}
 * creates one; a JMH fork runs one {@code system} parameter value, so every call site below sees
 * exactly one implementation class in a fork and the JIT inlines it (monomorphic).
 *
 * <p>Each system owns {@value #MAX_N} variables of its own kind, created up front: {@link
 * #bind(int) bind(n)} binds the first {@code n - 1} of them and then <i>the</i> variable, the one
 * {@link #get()}, {@link #setAndRestore()} and the executor hop read or write. Every variable is
 * bound to a value of its own; the variable to {@link #VALUE}. A separate variable is never bound:
 * {@link #getUnbound()} reads it with the default {@link #DEFAULT}.
 *
 * <p>An operation a system cannot do throws {@link UnsupportedOperationException} naming why; the
 * benchmarks do not list that system for it (no number is faked), and the report prints "–".
 */
interface ContextSystem {

  /** The most variables a benchmark binds. */
  int MAX_N = 1000;

  /** The value of the variable once bound. */
  Object VALUE = new Object();

  /** What {@link #setAndRestore()} sets the variable to, for the moment. */
  Object OTHER = new Object();

  /** The default returned by {@link #getUnbound()}. */
  Object DEFAULT = new Object();

  /** A task that does nothing, for the capture + wrap + run benchmarks. */
  Runnable NOOP = () -> {};

  /**
   * Binds {@code n} variables on the calling thread, the last of them the variable. Call once per
   * system, on the thread that runs the benchmark.
   */
  void bind(int n);

  /** Undoes {@link #bind}, on the same thread. */
  void unbind();

  /**
   * Runs {@code action} where the bindings are in force. Only {@code ScopedValue}, whose bindings
   * exist only inside {@code ScopedValue.where(...).run(...)}, needs this; for every other system
   * the bindings made by {@link #bind} stay in force on the thread and this just runs the action.
   */
  default void inBindings(Runnable action) {
    action.run();
  }

  /** Reads the variable (hot: the same variable, on the same thread, again and again). */
  Object get();

  /** Reads a variable that is not bound, falling back to {@link #DEFAULT}. */
  Object getUnbound();

  /** Sets the variable to {@link #OTHER} and restores it, the system's own way. */
  void setAndRestore();

  /** Captures the current values, for handing to another thread. */
  Object capture();

  /**
   * Captures the current values and returns {@code task} wrapped to run in them, as the system
   * recommends for handing a task to another thread.
   */
  Runnable captureAndWrap(Runnable task);

  /**
   * Wraps {@code pool} so that each task runs in the values current where it was submitted (a
   * system that does not propagate to a pool returns {@code pool} itself).
   */
  Executor wrap(ExecutorService pool);

  /** Whether {@link #wrap} carries the submitter's values to the pool's thread. */
  default boolean propagatesToPool() {
    return true;
  }

  /* ---- the server shapes (ShapesBenchmark classes); a system without one throws ---- */

  /** The number of reads of the variable in {@link #request}. */
  int REQUEST_READS = 4;

  /** The number of reads of each handler variable in {@link #handler}. */
  int HANDLER_READS = 10;

  /**
   * The request shape: sets the variable to {@link #OTHER}, reads it {@value #REQUEST_READS} times
   * (each read consumed, so none is folded into another), and restores it, the system's own way.
   */
  void request(Blackhole bh);

  /**
   * The handler shape: binds three handler variables of its own to {@link #OTHER}, reads each
   * {@value #HANDLER_READS} times, hands {@code hop} (which reads the three) to {@code pool}, waits
   * for its result, and restores the three.
   *
   * @param pool the pool, wrapped by {@link #wrap}; null: {@code hop} is called on this thread,
   *     the handler's sets and reads without the hop
   * @param hop what the pool's task runs: it reads the three handler variables
   * @return the task's result
   */
  Object handler(Blackhole bh, Executor pool, Callable<Object> hop)
      throws Exception;

  /** Reads the three handler variables, as {@link #handler}'s task does on the pool's thread. */
  Object readHandlerVars();

  /**
   * Runs {@code task} in {@code held}, values captured elsewhere by {@link #capture()}, and
   * restores what was current: the receiving side of a hop.
   */
  void replay(Object held, Runnable task);

  /**
   * Ages the thread's bindings: {@code sets} sets of the bound variables (the first {@code n - 1}
   * in turn, or the variable when {@code n} is 1) that are never undone, then a set of the variable
   * back to {@link #VALUE}. The same variables stay bound; only the history differs.
   */
  default void age(int n, int sets) {
    throw new UnsupportedOperationException(
        getClass().getSimpleName() + ": its bindings have no history to age");
  }
}
