"""Contains all the data models used in inputs/outputs"""

from .api_response import ApiResponse
from .credits_response import CreditsResponse
from .download_url_request import DownloadUrlRequest
from .download_url_response import DownloadUrlResponse
from .error_envelope import ErrorEnvelope
from .sora_2_characters_body import Sora2CharactersBody
from .sora_2_characters_body_input import Sora2CharactersBodyInput
from .sora_2_characters_body_model import Sora2CharactersBodyModel
from .sora_2_characters_pro_body import Sora2CharactersProBody
from .sora_2_characters_pro_body_input import Sora2CharactersProBodyInput
from .sora_2_characters_pro_body_model import Sora2CharactersProBodyModel
from .sora_2_characters_response_200 import Sora2CharactersResponse200
from .sora_2_characters_response_200_data_type_0 import (
    Sora2CharactersResponse200DataType0,
)
from .task_detail_response import TaskDetailResponse
from .task_record import TaskRecord
from .upload_error_response import UploadErrorResponse
from .upload_file_base_64_body import UploadFileBase64Body
from .upload_file_stream_body import UploadFileStreamBody
from .upload_file_url_body import UploadFileUrlBody
from .upload_response import UploadResponse
from .uploaded_file import UploadedFile

__all__ = (
    "ApiResponse",
    "CreditsResponse",
    "DownloadUrlRequest",
    "DownloadUrlResponse",
    "ErrorEnvelope",
    "Sora2CharactersBody",
    "Sora2CharactersBodyInput",
    "Sora2CharactersBodyModel",
    "Sora2CharactersProBody",
    "Sora2CharactersProBodyInput",
    "Sora2CharactersProBodyModel",
    "Sora2CharactersResponse200",
    "Sora2CharactersResponse200DataType0",
    "TaskDetailResponse",
    "TaskRecord",
    "UploadedFile",
    "UploadErrorResponse",
    "UploadFileBase64Body",
    "UploadFileStreamBody",
    "UploadFileUrlBody",
    "UploadResponse",
)
