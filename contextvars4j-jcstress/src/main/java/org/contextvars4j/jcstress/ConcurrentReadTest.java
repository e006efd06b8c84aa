package org.contextvars4j.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * Two threads reading the same variable at once, each inside its own entered {@link Context}. A
 * read writes nothing (no cache, no shared field): it scans its own thread's state, then its
 * context's immutable mapping, which the thread that entered the context last wrote back. These
 * cases keep that so: were a read path to share anything written (as a per-variable cache once
 * did), a half-published or another thread's entry would show here as a wrong value. Each result
 * is a {@link Seen} code per read: {@code r1, r2} of actor 1, {@code r3, r4} of actor 2; {@code 1}
 * is the only right answer.
 *
 * <p>Run (from the repository root):
 *
 * {@snippet lang = shell :
 * bin/jcstress -t ConcurrentReadTest -m quick
 * }
 */
public final class ConcurrentReadTest {

  private ConcurrentReadTest() {}

  /**
   * A new variable per state (with a default), published to both actors with the state: each
   * actor's first read of it is in a context the other did not make.
   *
   * {@snippet lang = shell :
   * bin/jcstress -t ConcurrentReadTest.FreshVariable
   * }
   */
  @JCStressTest
  @Description("Two threads, two contexts, one fresh variable: each sees only its own value.")
  @Outcome(id = "1, 1, 1, 1", expect = ACCEPTABLE, desc = "Each thread saw its own value, twice.")
  @Outcome(
      expect = FORBIDDEN,
      desc = "A thread saw the other's value (2), the default (3) or a stale value (4).")
  @State
  public static class FreshVariable {
    final ContextVar<Object> var = ContextVar.named("fresh", Seen.DEFAULT);
    final Object v1 = Seen.value("v1");
    final Object v2 = Seen.value("v2");
    final Context c1 = Seen.bound(var, v1);
    final Context c2 = Seen.bound(var, v2);

    @Actor
    public void actor1(IIII_Result r) {
      c1.run(
          () -> {
            r.r1 = Seen.get(var, v1, v2);
            r.r2 = Seen.get(var, v1, v2);
          });
    }

    @Actor
    public void actor2(IIII_Result r) {
      c2.run(
          () -> {
            r.r3 = Seen.get(var, v2, v1);
            r.r4 = Seen.get(var, v2, v1);
          });
    }
  }

  /**
   * One variable shared by every state and both actor threads for the whole run (no default), as
   * a server's {@code static final} variables are: a read must see its own context's value, never
   * the other thread's or an earlier state's.
   *
   * {@snippet lang = shell :
   * bin/jcstress -t ConcurrentReadTest.SharedVariable
   * }
   */
  @JCStressTest
  @Description("Two threads, two contexts, one long-lived variable: each sees only its own value.")
  @Outcome(id = "1, 1, 1, 1", expect = ACCEPTABLE, desc = "Each thread saw its own value, twice.")
  @Outcome(
      expect = FORBIDDEN,
      desc = "A thread saw the other's value (2), no value (3) or an earlier state's value (4).")
  @State
  public static class SharedVariable {
    static final ContextVar<Object> VAR = ContextVar.named("shared");

    final Object v1 = Seen.value("v1");
    final Object v2 = Seen.value("v2");
    final Context c1 = Seen.bound(VAR, v1);
    final Context c2 = Seen.bound(VAR, v2);

    @Actor
    public void actor1(IIII_Result r) {
      c1.run(
          () -> {
            r.r1 = Seen.get(VAR, v1, v2);
            r.r2 = Seen.get(VAR, v1, v2);
          });
    }

    @Actor
    public void actor2(IIII_Result r) {
      c2.run(
          () -> {
            r.r3 = Seen.get(VAR, v2, v1);
            r.r4 = Seen.get(VAR, v2, v1);
          });
    }
  }

  /**
   * Two contexts holding the very same immutable mapping ({@link Context#copy()}), read by two
   * threads at once: each must see the mapping whole (its fields are final), never a half-built
   * one with a missing value.
   *
   * {@snippet lang = shell :
   * bin/jcstress -t ConcurrentReadTest.SharedMapping
   * }
   */
  @JCStressTest
  @Description("Two threads, one mapping in two contexts: each sees it whole.")
  @Outcome(id = "1, 1, 1, 1", expect = ACCEPTABLE, desc = "Both threads saw the value, twice.")
  @Outcome(
      expect = FORBIDDEN,
      desc = "A thread saw no value (3) or another object (4): a mapping seen half-built.")
  @State
  public static class SharedMapping {
    final ContextVar<Object> var = ContextVar.named("sharedMapping");
    final Object v = Seen.value("v");
    final Context c1 = Seen.bound(var, v);
    final Context c2 = c1.copy();

    @Actor
    public void actor1(IIII_Result r) {
      c1.run(
          () -> {
            r.r1 = Seen.get(var, v, null);
            r.r2 = Seen.get(var, v, null);
          });
    }

    @Actor
    public void actor2(IIII_Result r) {
      c2.run(
          () -> {
            r.r3 = Seen.get(var, v, null);
            r.r4 = Seen.get(var, v, null);
          });
    }
  }
}
