import { InvalidOptionError } from '../errors.js'

// The AWS SDK is an optional peer dependency, loaded only when `upload` is set: a service that
// never uploads does not carry it (client-s3 and its dependencies weigh about 20 MB).

export type ClientS3 = typeof import('@aws-sdk/client-s3')
export type LibStorage = typeof import('@aws-sdk/lib-storage')
export type RequestPresigner = typeof import('@aws-sdk/s3-request-presigner')

export interface AwsSdk {
  s3: ClientS3
  storage: LibStorage
  /** Only when `upload.presign` is set. */
  presigner: RequestPresigner | null
}

async function load<T> (name: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' || (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new InvalidOptionError(`\`upload\` needs the package ${name}: npm install @aws-sdk/client-s3 @aws-sdk/lib-storage${name.includes('presigner') ? ' @aws-sdk/s3-request-presigner' : ''}`)
    }
    throw error
  }
}

export async function loadAwsSdk ({ presign }: { presign: boolean }): Promise<AwsSdk> {
  const [s3, storage, presigner] = await Promise.all([
    load('@aws-sdk/client-s3', () => import('@aws-sdk/client-s3')),
    load('@aws-sdk/lib-storage', () => import('@aws-sdk/lib-storage')),
    presign ? load('@aws-sdk/s3-request-presigner', () => import('@aws-sdk/s3-request-presigner')) : Promise.resolve(null)
  ])
  return { s3, storage, presigner }
}
