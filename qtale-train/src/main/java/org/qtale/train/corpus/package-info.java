/**
 * Training and evaluation text: the built-in {@link org.qtale.train.corpus.ToyWorld} corpus with its
 * multiple-choice questions, and {@link org.qtale.train.corpus.CorpusSpec}, which names either it or a text file.
 */
package org.qtale.train.corpus;
