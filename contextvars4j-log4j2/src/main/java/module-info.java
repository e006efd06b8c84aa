/**
 * contextvars4j for Log4j2: {@link org.contextvars4j.log4j2.ContextThreadContextMap}, a Log4j
 * {@code ThreadContext} map whose state lives in the current {@link org.contextvars4j.Context}.
 * The module's property source makes Log4j (log4j-core) use it with the dependency alone.
 */
@SuppressWarnings("module") // "log4j2" ends in a digit: the name follows Log4j's own (log4j2).
module org.contextvars4j.log4j2 {
  requires org.contextvars4j;
  // Transitive: the public class implements Log4j's interfaces.
  requires transitive org.apache.logging.log4j;
  requires static org.jspecify;

  exports org.contextvars4j.log4j2;

  provides org.apache.logging.log4j.util.PropertySource with
      org.contextvars4j.log4j2.internal.ThreadContextMapPropertySource;
}
