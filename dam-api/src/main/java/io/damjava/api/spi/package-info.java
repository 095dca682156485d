/** The engine service-provider interface; for engine authors, not applications. */
package io.damjava.api.spi;
