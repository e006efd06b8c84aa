package org.contextvars4j.opentelemetry;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextStorage;
import io.opentelemetry.context.Scope;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.contextvars4j.ContextVar;
import org.contextvars4j.Token;
import org.jspecify.annotations.Nullable;

/** OpenTelemetry's current context in one {@link ContextVar}; see {@link ContextVarsStorageProvider}. */
final class ContextVarsStorage implements ContextStorage {
  static final ContextVarsStorage INSTANCE =
      new ContextVarsStorage(Boolean.getBoolean("contextvars4j.opentelemetry.strict"));

  // OpenTelemetry logs a misplaced close on its provider's logger, at FINE: so does this one.
  private static final Logger logger = Logger.getLogger(ContextVarsStorageProvider.class.getName());

  /** OpenTelemetry's current context; unbound (null, read as root) where nothing is attached. */
  private static final ContextVar<@Nullable Context> CURRENT =
      ContextVar.named("opentelemetry.context");

  private final boolean strict;

  ContextVarsStorage(boolean strict) {
    this.strict = strict;
  }

  @Override
  public Scope attach(@Nullable Context toAttach) {
    if (toAttach == null) {
      return Scope.noop(); // OpenTelemetry ignores a null context
    }
    Context before = current();
    if (toAttach == before) {
      return Scope.noop();
    }
    if (Declared.any()) {
      InboundVars inbound = InboundVars.toBind(toAttach, before);
      if (inbound != null) {
        return attachReceived(toAttach, before, inbound);
      }
    }
    return new AttachedScope(CURRENT.set(toAttach), before, toAttach, strict ? openedHere() : null);
  }

  /**
   * Attaches the context of a received request: binds the values of the variables that arrived as
   * baggage ({@link BaggageVars}) first, then the context, and the scope undoes both.
   */
  private Scope attachReceived(Context toAttach, @Nullable Context before, InboundVars inbound) {
    Token<?>[] bound = inbound.bind();
    return new ReceivedScope(
        CURRENT.set(toAttach), before, toAttach, strict ? openedHere() : null, bound);
  }

  // Out of line, so that attach stays small enough for the JIT to inline into makeCurrent(), and
  // the scope and its token can then be removed by escape analysis where the scope is closed.
  private static Throwable openedHere() {
    return new Throwable(
        "the scope was opened here, on thread \"" + Thread.currentThread().getName() + "\"");
  }

  @Override
  public @Nullable Context current() {
    return CURRENT.getOrDefault(null);
  }

  /** What {@link #attach} returns: undoes its set, once, while its context is current. */
  private static class AttachedScope implements Scope {
    private final Token<@Nullable Context> token;
    private final @Nullable Context before;
    private final Context attached;
    /** Where and on which thread the scope was opened; recorded in strict mode only. */
    private final @Nullable Throwable openedAt;
    private boolean closed;

    AttachedScope(
        Token<@Nullable Context> token,
        @Nullable Context before,
        Context attached,
        @Nullable Throwable openedAt) {
      this.token = token;
      this.before = before;
      this.attached = attached;
      this.openedAt = openedAt;
    }

    @Override
    public void close() {
      if (closed || CURRENT.getOrDefault(null) != attached) {
        misplaced(closed ? "it is already closed" : "its context is not the current one");
        return;
      }
      closed = true;
      try {
        CURRENT.reset(token);
      } catch (IllegalArgumentException | IllegalStateException otherContext) {
        // Opened in another org.contextvars4j.Context (this one is a copy of it, say): restore
        // what was current before the scope, as a thread-local storage would.
        CURRENT.set(before);
      }
      restored();
    }

    /** Called once the scope has restored the context that was current before it. */
    void restored() {}

    private void misplaced(String why) {
      if (openedAt != null) {
        throw new IllegalStateException(
            "Closing a scope whose context is not current: "
                + why
                + "; "
                + openedAt.getMessage()
                + " (the cause's stack trace). Close scopes in reverse order of makeCurrent(),"
                + " on the thread that opened them, once.",
            openedAt);
      }
      logger.log(
          Level.FINE,
          " Trying to close scope which does not represent current context. Ignoring the call.");
    }
  }

  /** The scope of a received request's context: also unbinds the variables that arrived with it. */
  private static final class ReceivedScope extends AttachedScope {
    private final Token<?>[] bound;

    ReceivedScope(
        Token<@Nullable Context> token,
        @Nullable Context before,
        Context attached,
        @Nullable Throwable openedAt,
        Token<?>[] bound) {
      super(token, before, attached, openedAt);
      this.bound = bound;
    }

    @Override
    void restored() {
      InboundVars.unbind(bound);
    }
  }
}
