package org.contextvars4j.kotlin

import ch.qos.logback.classic.Logger
import ch.qos.logback.classic.LoggerContext
import ch.qos.logback.classic.spi.ILoggingEvent
import ch.qos.logback.core.read.ListAppender
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.slf4j.MDCContext
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import org.assertj.core.api.Assertions.assertThat
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.slf4j.LoggerFactory
import org.slf4j.MDC

/**
 * With `contextvars4j-logback` (the MDC lives in the context), `MDC.put` inside a coroutine with
 * the element survives suspension and changes of thread, is in every log line the coroutine writes
 * (the real Logback, a real appender), and never reaches the parent or the threads. Beside it,
 * kotlinx's own `MDCContext`: a snapshot restored on every resume, so a put after the coroutine
 * started is lost at its next suspension (by design, kotlinx says).
 */
class MdcTest {
    private val threads = TwoThreads()
    private val one = threads.one
    private val threadOne = threads.threadOne
    private val threadTwo = threads.threadTwo
    private val log = LoggerFactory.getLogger(MdcTest::class.java)
    private val appender = ListAppender<ILoggingEvent>()

    @BeforeEach
    fun attachAnAppender() {
        val context = LoggerFactory.getILoggerFactory() as LoggerContext
        appender.context = context
        appender.start()
        (log as Logger).addAppender(appender)
        assertThat(MDC.getMDCAdapter().javaClass.name)
            .`as`("the MDC adapter of the provider the test selects")
            .isEqualTo("org.contextvars4j.slf4j.ContextMDCAdapter")
    }

    @AfterEach
    fun threadsHoldNoMdc() {
        (log as Logger).detachAppender(appender)
        threads.checkEachAndStop { pool ->
            assertThat(pool.submit<Map<String, String>?> { MDC.getCopyOfContextMap() }.get(10, TimeUnit.SECONDS))
                .`as`("the MDC a dispatcher thread holds afterwards").isNullOrEmpty()
        }
        assertThat(MDC.get("request_id")).isNull()
    }

    @Test
    fun aPutSurvivesSuspensionAndIsInEveryLineTheCoroutineLogs() {
        runBlocking(ContextElement.copyCurrent() + threadOne) {
            withTimeout(30_000) {
                MDC.put("request_id", "r-1")
                log.info("before the delay")
                delay(1)
                log.info("after the delay")
                withContext(threadTwo) { log.info("on thread two") }
                yield()
                val child = launch(threadTwo) {
                    MDC.put("step", "child")
                    log.info("in the child")
                }
                child.join()
                log.info("after the child")
                assertThat(MDC.get("step")).`as`("the child's put in the parent").isNull()
            }
        }
        val lines = appender.list.map { it.message to (it.mdcPropertyMap["request_id"] to it.mdcPropertyMap["step"]) }
        assertThat(lines).containsExactly(
            "before the delay" to ("r-1" to null),
            "after the delay" to ("r-1" to null),
            "on thread two" to ("r-1" to null),
            "in the child" to ("r-1" to "child"),
            "after the child" to ("r-1" to null),
        )
    }

    @Test
    fun kotlinxMdcContextLosesAPutAtTheNextSuspension() {
        val seen = runBlocking(MDCContext() + threadOne) {
            withTimeout(30_000) {
                MDC.put("request_id", "r-2")
                // A suspension for sure: delay(1) goes on without one when its timer, on another
                // thread, fires before the coroutine has suspended.
                yield()
                MDC.get("request_id")
            }
        }
        assertThat(seen).`as`("MDCContext restores the snapshot it was made with").isNull()
        // The put was made on thread one, outside any snapshot: clear it, as its users must.
        one.submit { MDC.clear() }.get(10, TimeUnit.SECONDS)
    }
}
