package org.contextvars4j.opentelemetry;

import java.util.Arrays;
import java.util.Locale;
import org.contextvars4j.ContextVar;
import org.jspecify.annotations.Nullable;

/**
 * The variables declared by {@link BaggageVars}: an immutable array replaced on each declaration.
 * It names no type of OpenTelemetry's API, so that the storage can read it where only {@code
 * opentelemetry-context} is on the class path.
 */
final class Declared {
  private Declared() {}

  /** One declared variable. */
  record Declaration(ContextVar<?> var, String key, BaggageVars.Codec<?> codec) {

    /** {@return the variable's value in the current context, or null if unbound: one lookup} */
    @SuppressWarnings("unchecked")
    @Nullable Object boundValue() {
      return ((ContextVar<@Nullable Object>) var).getOrDefault(null);
    }

    @SuppressWarnings("unchecked")
    String encode(Object value) {
      return ((BaggageVars.Codec<Object>) codec).encode(value);
    }
  }

  private static final Declaration[] NONE = {};

  // Volatile: a declaration made on one thread is seen by the request threads that follow.
  private static volatile Declaration[] all = NONE;

  /** {@return the declarations, in the order they were made; the caller must not change it} */
  static Declaration[] all() {
    return all;
  }

  /** {@return whether any variable is declared} One volatile read: the storage's per-attach cost. */
  static boolean any() {
    return all.length != 0;
  }

  static synchronized void add(Declaration declaration) {
    String key = declaration.key();
    if (!isToken(key)) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "key \"%s\" is not a W3C baggage key: use a non-empty name of letters, digits and"
                  + " !#$%%&'*+-.^_`|~ (an HTTP token)",
              key));
    }
    for (Declaration made : all) {
      if (made.var() == declaration.var()) {
        throw new IllegalArgumentException(
            String.format(
                Locale.ROOT,
                "var %s is declared already, as baggage key \"%s\": declare a variable once",
                made.var(),
                made.key()));
      }
      if (made.key().equals(key)) {
        throw new IllegalArgumentException(
            String.format(
                Locale.ROOT,
                "key \"%s\" is declared already, for %s: give each variable a key of its own",
                key,
                made.var()));
      }
    }
    Declaration[] grown = Arrays.copyOf(all, all.length + 1);
    grown[grown.length - 1] = declaration;
    all = grown;
  }

  /** RFC 9110's token, which W3C baggage takes for its keys. */
  private static boolean isToken(String key) {
    if (key.isEmpty()) {
      return false;
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      boolean alphanumeric =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alphanumeric && "!#$%&'*+-.^_`|~".indexOf(c) < 0) {
        return false;
      }
    }
    return true;
  }
}
