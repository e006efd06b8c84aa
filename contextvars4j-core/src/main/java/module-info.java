/**
 * contextvars4j: Python's {@code contextvars} (PEP 567) for Java.
 *
 * <p>{@link org.contextvars4j.ContextVar}, {@link org.contextvars4j.Token} and {@link
 * org.contextvars4j.Context} give values that belong to the context a piece of work runs in, not
 * to the thread that happens to run it; {@link org.contextvars4j.hamt.Hamt} is the persistent map
 * behind a {@code Context}. The module has no runtime dependencies.
 */
module org.contextvars4j {
  requires static org.jspecify;

  exports org.contextvars4j;
  exports org.contextvars4j.hamt;
  exports org.contextvars4j.concurrent;
  // The steps of a coroutine (ContextAccess.enterStep/leaveStep) for the Kotlin module, and a set
  // without a token (ContextAccess.bind) for the logging integrations.
  exports org.contextvars4j.internal to
      org.contextvars4j.kotlin,
      org.contextvars4j.slf4j,
      org.contextvars4j.log4j2;
}
