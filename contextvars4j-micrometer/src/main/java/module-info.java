/**
 * contextvars4j for Micrometer context-propagation: {@link
 * org.contextvars4j.micrometer.ContextThreadLocalAccessor} carries the whole {@link
 * org.contextvars4j.Context} as one value.
 */
module org.contextvars4j.micrometer {
  requires org.contextvars4j;
  // Transitive: the public class implements context-propagation's accessor interface.
  requires transitive context.propagation;
  requires static org.jspecify;

  exports org.contextvars4j.micrometer;

  provides io.micrometer.context.ThreadLocalAccessor with
      org.contextvars4j.micrometer.ContextThreadLocalAccessor;
}
