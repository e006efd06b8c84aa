package org.contextvars4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
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
 * The floor under {@link AgedSetResetBenchmark}'s {@code warmed} history: what the profile of a
 * rare branch costs on its own, with nothing of contextvars4j in the way.
 *
 * <p>{@link Stack} is the least a stack of sets with an O(1) undo can be: a set keeps its value in
 * two fields and first moves the previous one, if it is still there, into an array, out of line
 * (the rare path of a set that follows a set); a reset checks that the newest set is its own and
 * clears the fields. The measured operation is a set and its reset, which never takes the rare
 * path. Two histories of the same code and the same data, as in {@code AgedSetResetBenchmark}:
 * {@code fresh} measures at once; {@code warmed} first makes {@value AgedSetResetBenchmark#AGE}
 * sets never undone on another thread, each but the first taking the rare path, as the aging sets
 * do. The JIT compiles the set with that profile: the rare call stays in the compiled loop
 * (HotSpot's compiled code saves no register across a call), where under {@code fresh}'s profile
 * it is an uncommon trap.
 *
 * <p>So {@code warmed} over {@code fresh} is what any stack of sets pays for a rare path that its
 * warm-up took, and the least that contextvars4j's aged set + reset can be over its fresh one.
 *
 * {@snippet lang = shell :
 * java -jar contextvars4j-benchmarks/target/benchmarks.jar ProfileFloorBenchmark -prof gc
 * }
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class ProfileFloorBenchmark {

  private static final Object VAR = new Object();
  private static final Object VALUE = new Object();

  @Param({"fresh", "warmed"})
  String history;

  private Stack stack;

  @Setup
  public void setup() {
    if (history.equals("warmed")) {
      warmOnAnotherThread();
    }
    stack = new Stack();
    setAndReset();
    Checks.require(stack.newestValue == null, "Stack", "the reset did not clear the newest set");
    Checks.tenure();
  }

  /** {@value AgedSetResetBenchmark#AGE} sets never undone, on a thread of their own. */
  private static void warmOnAnotherThread() {
    Checks.runOnAnotherThread(
        "aging",
        () -> {
          Stack aged = new Stack();
          for (int i = 0; i < AgedSetResetBenchmark.AGE; i++) {
            aged.set(VAR, Integer.valueOf(i));
          }
        });
  }

  /** Sets a value and resets it: the fast path of both, under the history's profile. */
  @Benchmark
  public void setAndReset() {
    stack.set(VAR, VALUE);
    stack.reset(VAR);
  }

  /** The newest set in two fields, older ones in an array of eight pairs that wraps. */
  static final class Stack {

    /** In {@link #flags}: the newest set is in the fields. */
    private static final int NEWEST = 1 << 31;

    private static final int PAIRS = 8;

    private int flags;
    private int top;
    private Object newestVar;
    private Object newestValue;
    private final Object[] older = new Object[2 * PAIRS];

    void set(Object var, Object value) {
      if (flags < 0) {
        moveNewest();
      }
      newestVar = var;
      newestValue = value;
      flags |= NEWEST;
    }

    /**
     * Clears the newest set, after the check that a reset makes (a token's): its failure is the
     * uncommon trap that keeps the set's stores from being merged away with the reset's, as a
     * reset's checks do in contextvars4j.
     */
    void reset(Object var) {
      if (flags >= 0 || newestVar != var) {
        throw new IllegalStateException("the newest set is not of this variable: nothing to reset");
      }
      newestVar = null;
      newestValue = null;
      flags &= ~NEWEST;
    }

    /** The rare path: never inlined, as contextvars4j's is by its size. */
    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    private void moveNewest() {
      older[2 * top] = newestVar;
      older[2 * top + 1] = newestValue;
      top = (top + 1) % PAIRS;
      flags &= ~NEWEST;
    }
  }
}
