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
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A context read by one thread while another runs it. The running thread keeps its sets in its
 * own state while it is in the context and writes the context's mapping back when it leaves (a
 * plain store of an immutable mapping); a reader on another thread sees the mapping from before
 * the run or the one written back, whole, never a mix and never another value. Results are {@link
 * Seen} codes: {@code 1} the value before the run, {@code 2} the value the run set.
 *
 * {@snippet lang = shell :
 * bin/jcstress -t WriteBackTest -m quick
 * }
 */
public final class WriteBackTest {

  private WriteBackTest() {}

  /**
   * The runner sets one variable; the reader reads it, then reads the size of the whole mapping
   * (which makes the reader fold a stacked mapping into its trie, racily, as any reader may).
   *
   * {@snippet lang = shell :
   * bin/jcstress -t WriteBackTest.OneSet
   * }
   */
  @JCStressTest
  @Description("A thread reads a context while another runs it and sets a variable in it.")
  @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "The mapping from before the run.")
  @Outcome(id = "2, 1", expect = ACCEPTABLE, desc = "The mapping the run wrote back.")
  @Outcome(
      expect = FORBIDDEN,
      desc = "No value (3), another object (4), or a wrong size: a mapping seen torn.")
  @State
  public static class OneSet {
    final ContextVar<Object> var = ContextVar.named("written back");
    final Object before = Seen.value("before");
    final Object during = Seen.value("during");
    final Context context = Seen.bound(var, before);

    @Actor
    public void runner() {
      context.run(() -> var.set(during));
    }

    @Actor
    public void reader(II_Result r) {
      Object value = context.getOrDefault(var, null);
      // Seen's codes with "before" as own and "during" as other: 1, 2; no value 3; else 4.
      r.r1 = Seen.classify(value, before, during);
      r.r2 = context.size();
    }
  }

  /**
   * The runner sets two variables, then resets the first: the mapping it writes back holds only
   * the second. A reader reads both variables from one {@code asMap()} snapshot.
   *
   * {@snippet lang = shell :
   * bin/jcstress -t WriteBackTest.SetsAndReset
   * }
   */
  @JCStressTest
  @Description("A thread reads a context while another sets, sets and resets in it.")
  @Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "The mapping from before the run.")
  @Outcome(id = "1, 1, 2", expect = ACCEPTABLE, desc = "The mapping the run wrote back.")
  @Outcome(expect = FORBIDDEN, desc = "A mix of the two mappings, or another value: torn.")
  @State
  public static class SetsAndReset {
    final ContextVar<Object> first = ContextVar.named("first");
    final ContextVar<Object> second = ContextVar.named("second");
    final Object one = Seen.value("one");
    final Object changed = Seen.value("changed");
    final Object two = Seen.value("two");
    final Context context = Seen.bound(first, one);

    @Actor
    public void runner() {
      context.run(
          () -> {
            var token = first.set(changed);
            second.set(two);
            first.reset(token);
          });
    }

    @Actor
    public void reader(III_Result r) {
      var map = context.asMap();
      r.r1 = map.get(first) == one ? 1 : map.get(first) == changed ? 2 : 3;
      r.r2 = !map.containsKey(second) ? 0 : map.get(second) == two ? 1 : 3;
      r.r3 = map.size();
    }
  }
}
