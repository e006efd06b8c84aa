package org.contextvars4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.contextvars4j.Token;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * One variable read while another thread sets it: readers, each in its own context, read the
 * variable while a setter, in another context, sets it, reads, resets and reads again (its set
 * and reset change only its own thread's state; its exit writes its context's mapping back).
 * Each result is a {@link Seen} code; {@code 1} is the only right answer.
 *
 * <p>Run (from the repository root):
 *
 * {@snippet lang = shell :
 * bin/jcstress -t SetWhileReadingTest -m quick
 * }
 */
public final class SetWhileReadingTest {

  static final ContextVar<Object> VAR = ContextVar.named("raced");

  private SetWhileReadingTest() {}

  /** Contexts and values of one race; the setter works in {@code c2}. */
  abstract static class Race {
    final Object v1 = Seen.value("v1");
    final Object v2 = Seen.value("v2");
    final Object v2New = Seen.value("v2'");
    final Object v3 = Seen.value("v3");
    final Context c1 = Seen.bound(VAR, v1);
    final Context c2 = Seen.bound(VAR, v2);
    final Context c3 = Seen.bound(VAR, v3);

    /** Sets, reads, resets, reads; returns the two codes as {@code 10 * first + second}. */
    final int setResetRead() {
      int[] seen = new int[2];
      c2.run(
          () -> {
            Token<Object> token = VAR.set(v2New);
            seen[0] = Seen.get(VAR, v2New, v1);
            VAR.reset(token);
            seen[1] = Seen.get(VAR, v2, v2New);
          });
      return 10 * seen[0] + seen[1];
    }
  }

  /**
   * One reader, one setter. Results: {@code r1}, {@code r2}: the reader's two reads; {@code r3}:
   * the setter's read after its set; {@code r4}: its read after the reset.
   *
   * {@snippet lang = shell :
   * bin/jcstress -t SetWhileReadingTest.OneReader
   * }
   */
  @JCStressTest
  @Description("A thread reads a variable while another sets and resets it, each in its context.")
  @Outcome(id = "1, 1, 1, 1", expect = ACCEPTABLE, desc = "Every read saw its own context's value.")
  @Outcome(
      expect = FORBIDDEN,
      desc = "A read saw another thread's value (2), no value (3) or a stale one (4).")
  @State
  public static class OneReader extends Race {
    @Actor
    public void reader(IIII_Result r) {
      c1.run(
          () -> {
            r.r1 = Seen.get(VAR, v1, v2New);
            r.r2 = Seen.get(VAR, v1, v2New);
          });
    }

    @Actor
    public void setter(IIII_Result r) {
      int seen = setResetRead();
      r.r3 = seen / 10;
      r.r4 = seen % 10;
    }
  }

  /**
   * Two readers, one setter: three threads on one variable. jcstress runs it only with three or more
   * CPUs ({@code -c 3}); with fewer it reports that the test cannot be scheduled. Results: {@code
   * r1}, {@code r2}: reader 1's two reads; {@code r3}, {@code r4}: the setter's reads after its set
   * and after the reset; {@code r5}: reader 3's read.
   *
   * {@snippet lang = shell :
   * bin/jcstress -t SetWhileReadingTest.TwoReaders -c 3
   * }
   */
  @JCStressTest
  @Description("Two threads read a variable while a third sets and resets it, each in its context.")
  @Outcome(
      id = "1, 1, 1, 1, 1",
      expect = ACCEPTABLE,
      desc = "Every read saw its own context's value.")
  @Outcome(
      expect = FORBIDDEN,
      desc = "A read saw another thread's value (2), no value (3) or a stale one (4).")
  @State
  public static class TwoReaders extends Race {
    @Actor
    public void reader1(IIIII_Result r) {
      c1.run(
          () -> {
            r.r1 = Seen.get(VAR, v1, v2New);
            r.r2 = Seen.get(VAR, v1, v2New);
          });
    }

    @Actor
    public void setter(IIIII_Result r) {
      int seen = setResetRead();
      r.r3 = seen / 10;
      r.r4 = seen % 10;
    }

    @Actor
    public void reader3(IIIII_Result r) {
      c3.run(() -> r.r5 = Seen.get(VAR, v3, v2New));
    }
  }
}
