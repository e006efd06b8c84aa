/**
 * contextvars4j for SLF4J: {@link org.contextvars4j.slf4j.ContextMDCAdapter}, an MDC whose state
 * lives in the current {@link org.contextvars4j.Context}, for any SLF4J 2 backend.
 */
module org.contextvars4j.slf4j {
  requires transitive org.contextvars4j;
  requires transitive org.slf4j;
  requires static org.jspecify;

  exports org.contextvars4j.slf4j;
}
