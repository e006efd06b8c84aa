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
 * The per-variable lookup cache of {@link ContextVar}: a plain, racily read and written field
 * holding an immutable {@code (mapping, value)} record, valid only for that very mapping. Two
 * actors, each inside its own entered {@link Context}, read the same variable twice (the first read
 * usually misses and writes the cache, the second usually hits it, possibly on the entry the other
 * thread just wrote). Each result is a {@link Seen} code per read: {@code r1, r2} of actor 1,
 * {@code r3, r4} of actor 2; {@code 1} is the only right answer.
 *
 * <p>Run (from the repository root):
 *
 * {@snippet lang = shell :
 * bin/jcstress -t CachePublicationTest -m quick
 * }
 */
public final class CachePublicationTest {

  private CachePublicationTest() {}

  /**
   * A new variable per state (with a default), so that the two actors race on an empty cache: one
   * thread's first cache write is the other's first cache read.
   *
   * {@snippet lang = shell :
   * bin/jcstress -t CachePublicationTest.FreshVariable
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
   * One variable shared by every state and both actor threads for the whole run (no default), so
   * its cache always holds an entry of the other thread or of an earlier state: a read must never
   * trust an entry made for another mapping.
   *
   * {@snippet lang = shell :
   * bin/jcstress -t CachePublicationTest.SharedVariable
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
   * Two contexts holding the very same mapping ({@link Context#copy()}): a cache entry one thread
   * writes is a hit for the other, which must then see the record whole (its fields are final),
   * never a half-built one with a missing mapping or value.
   *
   * {@snippet lang = shell :
   * bin/jcstress -t CachePublicationTest.SharedMapping
   * }
   */
  @JCStressTest
  @Description("Two threads, one mapping in two contexts: a cache hit on the other's entry.")
  @Outcome(id = "1, 1, 1, 1", expect = ACCEPTABLE, desc = "Both threads saw the value, twice.")
  @Outcome(
      expect = FORBIDDEN,
      desc = "A thread saw no value (3) or another object (4): a cache entry seen half-built.")
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
