package org.contextvars4j.spring.boot;

import org.springframework.core.Ordered;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * A WebFlux {@link WebFilter} that runs each exchange's subscription in a fresh, empty {@link
 * org.contextvars4j.Context}: the rest of the filter chain and the handler are invoked, and their
 * publishers subscribed to, in it. What they set there, even without resetting it, ends with the
 * subscription and is never seen by the next exchange on the same event-loop thread.
 *
 * <p>Later signals (a response body arriving, a timer firing) run on whatever thread delivers them.
 * With Reactor's automatic context propagation ({@code spring.reactor.context-propagation=auto},
 * and {@code contextvars4j-micrometer}, which this module brings), each operator then runs in a
 * copy of the context carried by the subscriber's Reactor {@code Context} (an empty one if it
 * carries none) and gives the thread back as it found it.
 *
 * <p>It should come before every other filter: its {@link #getOrder() order} is {@link
 * Ordered#HIGHEST_PRECEDENCE}.
 *
 * <p>Thread safety: stateless, safe for concurrent use.
 */
public final class ContextWebFilter implements WebFilter, Ordered {

  /** Creates the filter; it holds no state. */
  public ContextWebFilter() {}

  /**
   * {@return the rest of the chain, invoked and subscribed to in a fresh context at each
   * subscription}
   *
   * @param exchange the exchange
   * @param chain the rest of the chain
   */
  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    return FreshContextMono.of(() -> chain.filter(exchange));
  }

  /** {@return {@link Ordered#HIGHEST_PRECEDENCE}: before every other filter} */
  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE;
  }

  @Override
  public String toString() {
    return "ContextWebFilter";
  }
}
