/**
 * Logback with its MDC in the current {@link org.contextvars4j.Context}: {@link
 * org.contextvars4j.logback.ContextLogbackServiceProvider}, selected with {@code
 * -Dslf4j.provider=org.contextvars4j.logback.ContextLogbackServiceProvider}.
 *
 * <p>Types in this package are non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package org.contextvars4j.logback;

import org.jspecify.annotations.NullMarked;
