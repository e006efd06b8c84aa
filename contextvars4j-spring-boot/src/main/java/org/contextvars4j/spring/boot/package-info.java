/**
 * Spring Boot for contextvars4j: {@link org.contextvars4j.spring.boot.ContextVarsAutoConfiguration}
 * and the three pieces it installs, {@link org.contextvars4j.spring.boot.ContextTaskDecorator},
 * {@link org.contextvars4j.spring.boot.ContextServletFilter} and {@link
 * org.contextvars4j.spring.boot.ContextWebFilter}, which an application without Spring Boot can
 * register itself.
 */
@NullMarked
package org.contextvars4j.spring.boot;

import org.jspecify.annotations.NullMarked;
