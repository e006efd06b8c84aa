package org.contextvars4j.spring.boot;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import java.io.IOException;
import org.contextvars4j.Context;
import org.springframework.core.Ordered;

/**
 * A servlet {@link Filter} that runs each request in a fresh, empty {@link Context}, so that
 * nothing a request sets, even a value it never resets, can be seen by the next request that the
 * server runs on the same thread; and nothing a server thread holds reaches a request.
 *
 * <p>The request's context follows the request: its asynchronous dispatches (a {@code Callable}'s
 * or {@code DeferredResult}'s result, {@code AsyncContext.dispatch}) and its error dispatch run in
 * a copy of the context as the request left it, so a request id set by an early filter is still
 * there when the result or the error page is written. Work handed to Spring's executors meanwhile
 * runs in copies through {@link ContextTaskDecorator}.
 *
 * <p>It should come before every other filter, so that their values (the server span of a tracing
 * filter, an MDC entry) are set in the request's context: its {@link #getOrder() order} is {@link
 * Ordered#HIGHEST_PRECEDENCE}. {@link ContextVarsAutoConfiguration} registers it for the {@code
 * REQUEST}, {@code ASYNC} and {@code ERROR} dispatcher types.
 *
 * <p>Thread safety: stateless, safe for concurrent use.
 */
public final class ContextServletFilter implements Filter, Ordered {
  /**
   * The request attribute holding the request's context, read by the request's later dispatches.
   */
  public static final String CONTEXT_ATTRIBUTE = ContextServletFilter.class.getName() + ".CONTEXT";

  /** Creates the filter; it holds no state. */
  public ContextServletFilter() {}

  /**
   * Runs the rest of the chain in the request's context: a new one for a request's first
   * dispatch, a copy of the one it left for a later dispatch of the same request.
   *
   * @param request the request
   * @param response the response
   * @param chain the rest of the chain
   * @throws IOException if the chain throws it
   * @throws ServletException if the chain throws it
   */
  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    Context context = contextFor(request);
    try (Context.Scope ignored = context.enter()) {
      chain.doFilter(request, response);
    }
  }

  private static Context contextFor(ServletRequest request) {
    if (request.getDispatcherType() != DispatcherType.REQUEST
        && request.getAttribute(CONTEXT_ATTRIBUTE) instanceof Context requests) {
      // A later dispatch starts after the first one returned (the Servlet specification defers
      // it), or nested in it on the same thread: either way the copy sees every set.
      return requests.copy();
    }
    Context fresh = new Context();
    request.setAttribute(CONTEXT_ATTRIBUTE, fresh);
    return fresh;
  }

  /** {@return {@link Ordered#HIGHEST_PRECEDENCE}: before every other filter} */
  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE;
  }

  @Override
  public String toString() {
    return "ContextServletFilter";
  }
}
