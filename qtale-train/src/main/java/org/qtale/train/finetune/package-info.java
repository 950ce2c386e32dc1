/**
 * Router fine-tuning (D-LLM and QTALE): the data it reads, the fine-tuning job, and the post-training calibration of
 * the execution threshold θ.
 */
package org.qtale.train.finetune;
