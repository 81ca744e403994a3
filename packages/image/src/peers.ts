import { optionalPeer } from '@kindling/data/node';

/** sharp, an optional peer, loaded when a picture is first read or written. */
export const loadSharp = async () => (await optionalPeer('sharp', '@kindling/image/node (reading and writing pictures)', () => import('sharp'))).default;

/** @napi-rs/canvas, an optional peer, loaded when the generated shapes are first drawn. */
export const loadCanvas = () => optionalPeer('@napi-rs/canvas', '@kindling/image/node (drawing the generated shapes)', () => import('@napi-rs/canvas'));
