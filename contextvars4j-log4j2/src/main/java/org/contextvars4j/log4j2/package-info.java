/**
 * contextvars4j for Log4j2: {@link org.contextvars4j.log4j2.ContextThreadContextMap}, a {@code
 * ThreadContext} map whose state lives in the current {@link org.contextvars4j.Context}, so that
 * Log4j's MDC follows the work across threads, executors and futures by PEP 567's rules. The
 * dependency alone activates it with log4j-core.
 *
 * <p>Types in this package are non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package org.contextvars4j.log4j2;

import org.jspecify.annotations.NullMarked;
