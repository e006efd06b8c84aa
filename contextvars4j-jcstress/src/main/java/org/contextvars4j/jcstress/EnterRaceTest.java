package org.contextvars4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicInteger;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * Two threads race to enter the same {@link Context}: the compare-and-set on its owner must let at
 * most one in at a time, the loser must get {@code already entered} with its own context unchanged,
 * and the sets of a winner must be seen by the next one.
 *
 * <p>jcstress actors do not always overlap: one may finish before the other starts, and then both
 * rightly win, one after the other. The outcome space tells the cases apart precisely:
 *
 * <ul>
 *   <li>{@code r1}, {@code r2}: what actor 1 and actor 2 got: {@code 1} entered, {@code 0} lost
 *       with {@code already entered}, {@code 2} lost with another exception, {@code 3} its own
 *       current context was not as before afterwards, {@code 4} entered but leaving threw;
 *   <li>{@code r3}: the arbiter enters the context afterwards and reads the counter that each
 *       winner incremented inside (read, then set); {@code -1} if it could not enter (a winner left
 *       the context owned). It must equal the number of winners: a lost increment means two threads
 *       were inside at once, or the second did not see the first one's set;
 *   <li>{@code r4}: the most threads seen inside at once (an atomic counter around the body):
 *       {@code 1}, or {@code 2} for two threads inside.
 * </ul>
 *
 * <p>Run (from the repository root):
 *
 * {@snippet lang = shell :
 * bin/jcstress -t EnterRaceTest -m quick
 * }
 */
public final class EnterRaceTest {

  static final int LOST = 0;
  static final int WON = 1;
  static final int WRONG_ERROR = 2;
  static final int NOT_RESTORED = 3;
  static final int BROKEN_EXIT = 4;

  /** Bound only inside the raced contexts: an actor thread's own context never has it. */
  static final ContextVar<Integer> COUNT = ContextVar.named("count");

  private EnterRaceTest() {}

  /** The state of each race: one context, counting its winners. */
  abstract static class Race {
    final Context context = new Context();
    final AtomicInteger inside = new AtomicInteger();
    final AtomicInteger maxInside = new AtomicInteger();

    Race() {
      context.run(() -> COUNT.set(0));
    }

    /** What a winner does inside the context. */
    final void body() {
      int now = inside.incrementAndGet();
      maxInside.accumulateAndGet(now, Math::max);
      COUNT.set(COUNT.get() + 1);
      inside.decrementAndGet();
    }

    /** Tries {@link Context#run}. */
    final int viaRun() {
      boolean[] ran = new boolean[1];
      try {
        context.run(
            () -> {
              ran[0] = true;
              body();
            });
      } catch (RuntimeException e) {
        // An exception after the body ran is a broken exit, not a lost race.
        return ran[0] ? restored(BROKEN_EXIT) : lost(e);
      }
      return restored(WON);
    }

    /** Tries {@link Context#enter()}, closing the scope on the same thread. */
    final int viaEnter() {
      Context.Scope scope;
      try {
        scope = context.enter();
      } catch (RuntimeException e) {
        return lost(e);
      }
      try {
        body();
        scope.close();
      } catch (RuntimeException e) {
        return restored(BROKEN_EXIT);
      }
      return restored(WON);
    }

    /** A result, not an error, for any exception: jcstress stops a test at an actor's error. */
    private static int lost(RuntimeException e) {
      String message = e.getMessage();
      boolean expected =
          e instanceof IllegalStateException
              && message != null
              && message.contains("already entered");
      return restored(expected ? LOST : WRONG_ERROR);
    }

    /** {@code code}, unless this thread's current context is no longer its own. */
    private static int restored(int code) {
      return COUNT.isBound() ? NOT_RESTORED : code;
    }

    /** Declared with {@code @Arbiter} in each test, which calls this. */
    final void judge(IIII_Result r) {
      r.r4 = maxInside.get();
      try {
        context.run(() -> r.r3 = COUNT.get());
      } catch (RuntimeException e) {
        r.r3 = -1;
      }
    }
  }

  /**
   * Both actors use {@link Context#run}.
   *
   * {@snippet lang = shell :
   * bin/jcstress -t EnterRaceTest.Run
   * }
   */
  @JCStressTest
  @Description("Two threads run the same context: at most one is inside at a time.")
  @Outcome(
      id = "1, 0, 1, 1",
      expect = ACCEPTABLE,
      desc = "Actor 1 entered; actor 2 found it entered.")
  @Outcome(
      id = "0, 1, 1, 1",
      expect = ACCEPTABLE,
      desc = "Actor 2 entered; actor 1 found it entered.")
  @Outcome(id = "1, 1, 2, 1", expect = ACCEPTABLE, desc = "Both entered, one after the other.")
  @Outcome(expect = FORBIDDEN, desc = "Two inside at once, a lost set, no winner, or a bad exit.")
  @State
  public static class Run extends Race {
    @Actor
    public void actor1(IIII_Result r) {
      r.r1 = viaRun();
    }

    @Actor
    public void actor2(IIII_Result r) {
      r.r2 = viaRun();
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
      judge(r);
    }
  }

  /**
   * Both actors use {@link Context#enter()} and close the scope before returning.
   *
   * {@snippet lang = shell :
   * bin/jcstress -t EnterRaceTest.Enter
   * }
   */
  @JCStressTest
  @Description("Two threads enter() the same context: at most one is inside at a time.")
  @Outcome(
      id = "1, 0, 1, 1",
      expect = ACCEPTABLE,
      desc = "Actor 1 entered; actor 2 found it entered.")
  @Outcome(
      id = "0, 1, 1, 1",
      expect = ACCEPTABLE,
      desc = "Actor 2 entered; actor 1 found it entered.")
  @Outcome(id = "1, 1, 2, 1", expect = ACCEPTABLE, desc = "Both entered, one after the other.")
  @Outcome(expect = FORBIDDEN, desc = "Two inside at once, a lost set, no winner, or a bad exit.")
  @State
  public static class Enter extends Race {
    @Actor
    public void actor1(IIII_Result r) {
      r.r1 = viaEnter();
    }

    @Actor
    public void actor2(IIII_Result r) {
      r.r2 = viaEnter();
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
      judge(r);
    }
  }

  /**
   * Actor 1 uses {@link Context#run}, actor 2 {@link Context#enter()}: both paths share one owner.
   *
   * {@snippet lang = shell :
   * bin/jcstress -t EnterRaceTest.Mixed
   * }
   */
  @JCStressTest
  @Description("run() against enter() on the same context: at most one is inside at a time.")
  @Outcome(
      id = "1, 0, 1, 1",
      expect = ACCEPTABLE,
      desc = "Actor 1 entered; actor 2 found it entered.")
  @Outcome(
      id = "0, 1, 1, 1",
      expect = ACCEPTABLE,
      desc = "Actor 2 entered; actor 1 found it entered.")
  @Outcome(id = "1, 1, 2, 1", expect = ACCEPTABLE, desc = "Both entered, one after the other.")
  @Outcome(expect = FORBIDDEN, desc = "Two inside at once, a lost set, no winner, or a bad exit.")
  @State
  public static class Mixed extends Race {
    @Actor
    public void actor1(IIII_Result r) {
      r.r1 = viaRun();
    }

    @Actor
    public void actor2(IIII_Result r) {
      r.r2 = viaEnter();
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
      judge(r);
    }
  }
}
