package org.contextvars4j.opentelemetry;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import org.contextvars4j.ContextVar;
import org.contextvars4j.Token;
import org.jspecify.annotations.Nullable;

/**
 * The declared variables' values that arrived with a request, decoded by {@link
 * BaggageVarsPropagator#extract}, held in the extracted OpenTelemetry context under {@link #KEY}
 * until the storage binds them. Immutable. Names no type of OpenTelemetry's API (the storage reads
 * it with the context alone on the class path).
 */
final class InboundVars {
  static final ContextKey<InboundVars> KEY = ContextKey.named("contextvars4j.baggage-vars");

  private final ContextVar<?>[] vars;
  private final @Nullable Object[] values;

  InboundVars(ContextVar<?>[] vars, @Nullable Object[] values) {
    this.vars = vars;
    this.values = values;
  }

  /**
   * {@return the request's values to bind when {@code toAttach} is made current over {@code
   * before}, or null} They are bound when the context being made current carries values that the
   * current one does not: the first attach of a received request's context, not a child span's.
   */
  static @Nullable InboundVars toBind(Context toAttach, @Nullable Context before) {
    InboundVars inbound = toAttach.get(KEY);
    if (inbound == null || (before != null && before.get(KEY) == inbound)) {
      return null;
    }
    return inbound;
  }

  /** Binds the values in the current {@link org.contextvars4j.Context}; returns the tokens. */
  @SuppressWarnings("unchecked")
  Token<?>[] bind() {
    Token<?>[] tokens = new Token<?>[vars.length];
    for (int i = 0; i < vars.length; i++) {
      tokens[i] = ((ContextVar<@Nullable Object>) vars[i]).set(values[i]);
    }
    return tokens;
  }

  /**
   * Undoes {@link #bind}, newest first. A token made in another {@link org.contextvars4j.Context}
   * than the current one (the scope is closed in a copy) is replayed as a set of its old value
   * where the variable had one, as OpenTelemetry's context is.
   */
  @SuppressWarnings("unchecked")
  static void unbind(Token<?>[] tokens) {
    for (int i = tokens.length - 1; i >= 0; i--) {
      Token<@Nullable Object> token = (Token<@Nullable Object>) tokens[i];
      try {
        token.var().reset(token);
      } catch (IllegalArgumentException otherContext) {
        if (token.hasOldValue()) {
          token.var().set(token.oldValue());
        }
      }
    }
  }
}
