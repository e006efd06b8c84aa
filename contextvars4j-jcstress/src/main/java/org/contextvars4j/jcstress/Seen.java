package org.contextvars4j.jcstress;

import java.util.NoSuchElementException;
import org.contextvars4j.Context;
import org.contextvars4j.ContextVar;

/**
 * What an actor saw when it read a variable, as the small integers that jcstress results hold. The
 * outcome ids of the tests are written with these numbers.
 */
final class Seen {

  /** The value this actor's own context holds: the only right answer. */
  static final int OWN = 1;

  /** The value of another actor's context in the same state: a leak between threads. */
  static final int OTHER = 2;

  /** No value (the variable looked unbound: its default, or {@code get()} threw). */
  static final int UNBOUND = 3;

  /** Some other object, e.g. a value of an earlier state: a stale or half-published read. */
  static final int FOREIGN = 4;

  /** What the default of a variable with a default is; never bound in any context. */
  static final Object DEFAULT = new Object();

  private Seen() {}

  /** Reads {@code var} with {@code get()} and classifies the answer. */
  static int get(ContextVar<Object> var, Object own, Object other) {
    Object value;
    try {
      value = var.get();
    } catch (NoSuchElementException e) {
      return UNBOUND;
    }
    return classify(value, own, other);
  }

  /** Classifies {@code value}; {@code other} may be {@code null} when there is no other value. */
  static int classify(Object value, Object own, Object other) {
    if (value == own) {
      return OWN;
    }
    if (value == DEFAULT || value == null) {
      return UNBOUND;
    }
    if (value == other) {
      return OTHER;
    }
    return FOREIGN;
  }

  /** A new context in which {@code var} is bound to {@code value}. */
  static Context bound(ContextVar<Object> var, Object value) {
    Context context = new Context();
    context.run(() -> var.set(value));
    return context;
  }

  /** A distinct object per state and actor, so that a value from an earlier state is noticed. */
  static Object value(String name) {
    return new Object() {
      @Override
      public String toString() {
        return name;
      }
    };
  }
}
