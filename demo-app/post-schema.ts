import { Schema } from 'mongoose'
import type { InferSchemaType, Model } from 'mongoose'

export const POST_MODEL_NAME = 'Post'

export const TITLE_MAX_LENGTH = 200
export const CONTENT_MAX_LENGTH = 20_000
export const AUTHOR_MAX_LENGTH = 100

/** A blog post. Every tenant has its own database, each holding a `posts` collection. */
export const postSchema = new Schema({
  title: { type: String, required: true, maxlength: TITLE_MAX_LENGTH },
  content: { type: String, required: true, maxlength: CONTENT_MAX_LENGTH },
  author: { type: String, required: true, maxlength: AUTHOR_MAX_LENGTH }
}, { timestamps: true })

// Listing newest first is the blog's main read. With autoIndex on (Mongoose's default), every
// compiled model sends createIndexes once: one more round trip per request on the leaking path,
// as in the incident.
postSchema.index({ createdAt: -1 })

export type Post = InferSchemaType<typeof postSchema>
export type PostModel = Model<Post>
